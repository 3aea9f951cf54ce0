import { Authenticated, AuthenticatedUser, CurrentUser } from '@dbaas/auth';
import { Page, PageRequest } from '@dbaas/core';
import { Body, Controller, Delete, Get, Patch, Post, Put, Query, Res, Type } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Idempotent } from '../idempotency/idempotent.decorator';
import {
  ApiCreateRoute,
  ApiDeleteRoute,
  ApiDetailRoute,
  ApiListRoute,
  ApiUpdateRoute,
} from '../http/api-docs.decorators';
import { created } from '../http/created';
import { DbaOnly } from '../http/dba-only.guard';
import { IdParam } from '../http/id-param.pipe';
import { Links, RequestLinks } from '../http/links';
import { PageQueryDto, pageOf } from '../http/page-query.dto';
import { strictValidationPipe } from '../http/validation.pipe';

/** What a catalog service offers; the viewer comes last and is ignored where not needed. */
export interface CrudPort<E, C, U> {
  list(page: PageRequest, viewer: AuthenticatedUser): Promise<Page<E>>;
  get(id: number, viewer: AuthenticatedUser): Promise<E>;
  create(input: C, viewer: AuthenticatedUser): Promise<E>;
  update(id: number, input: U, viewer: AuthenticatedUser): Promise<E>;
  remove(id: number, viewer: AuthenticatedUser): Promise<void>;
}

export interface CrudResource<E, C, U, CDto, UDto> {
  /** Resource name: the URL segment and the list key (`plan` → /api/plan/, `{"plan": [...]}`). */
  name: string;
  /** Human name for the docs. */
  title: string;
  service: Type<CrudPort<E, C, U>>;
  createDto: Type<CDto>;
  updateDto: Type<UDto>;
  responseDto: Type;
  /** The viewer may see less than a dba (e.g. an infra's address and admin login). */
  present(links: Links, entity: E, viewer: AuthenticatedUser): object;
  createInput(dto: CDto): C;
  updateInput(dto: UDto): U;
  /** Who may write: `dba` (403 for others) or `any` authenticated user. */
  writers: 'dba' | 'any';
  /** Extra problem statuses of create/update (e.g. 503). */
  extraProblems?: number[];
  /** Adds live fields to the detail view only (e.g. an infra's reachability). */
  detailExtras?: Type<DetailExtras<E>>;
}

export interface DetailExtras<E> {
  extras(entity: E, viewer: AuthenticatedUser): Promise<object>;
}

/**
 * "a plan", "an engine", "an infra", "a user": "an" before a vowel sound. A leading "u"
 * sounds like "you" (user, unit) except in "un-" words.
 */
export function withArticle(noun: string): string {
  return `${/^(?:[aeio]|un)/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * One controller per catalog resource, all with the same five routes and the same docs:
 * list, detail, create (201 + Location), update (PUT and PATCH, both partial) and delete
 * (204; 409 while in use). DTO classes are given explicitly to the validation pipe and the
 * OpenAPI decorators, because a generic class has no design-time types to read.
 */
export function crudController<E, C, U, CDto, UDto>(r: CrudResource<E, C, U, CDto, UDto>): Type {
  const aTitle = withArticle(r.title);
  const writeGuard = r.writers === 'dba' ? DbaOnly() : () => undefined;
  const forWriters = r.writers === 'dba' ? ' (dba)' : '';
  const createBody = Body(strictValidationPipe(r.createDto));
  const updateBody = Body(strictValidationPipe(r.updateDto));
  const pageQuery = Query(strictValidationPipe(PageQueryDto));

  @ApiTags(r.name)
  @Authenticated()
  @Controller(`api/${r.name}`)
  class CrudController {
    constructor(
      readonly service: CrudPort<E, C, U>,
      readonly detailExtras?: DetailExtras<E>,
    ) {}

    @Get()
    @ApiOperation({ summary: `List ${r.title}s`, operationId: `list_${r.name}` })
    @ApiListRoute(r.responseDto, r.name)
    async list(
      @pageQuery query: PageQueryDto,
      @CurrentUser() user: AuthenticatedUser,
      @RequestLinks() links: Links,
    ) {
      const page = pageOf(query);
      const { items, count } = await this.service.list(page, user);
      return links.list(
        r.name,
        page,
        count,
        items.map((item) => r.present(links, item, user)),
      );
    }

    @Get(':id')
    @ApiOperation({ summary: `Get ${aTitle}`, operationId: `get_${r.name}` })
    @ApiDetailRoute(r.responseDto)
    async get(
      @IdParam() id: number,
      @CurrentUser() user: AuthenticatedUser,
      @RequestLinks() links: Links,
    ) {
      const entity = await this.service.get(id, user);
      return {
        ...r.present(links, entity, user),
        ...(await this.detailExtras?.extras(entity, user)),
      };
    }

    @Post()
    @Idempotent()
    @writeGuard
    @ApiOperation({ summary: `Create ${aTitle}${forWriters}`, operationId: `create_${r.name}` })
    @ApiBody({ type: r.createDto })
    @ApiCreateRoute(r.responseDto, ...(r.extraProblems ?? []))
    async create(
      @createBody body: CDto,
      @CurrentUser() user: AuthenticatedUser,
      @RequestLinks() links: Links,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const entity = await this.service.create(r.createInput(body), user);
      return created(reply, r.present(links, entity, user) as { _links: { self: string } });
    }

    @Put(':id')
    @writeGuard
    @ApiOperation({ summary: `Change ${aTitle}${forWriters}`, operationId: `replace_${r.name}` })
    @ApiBody({ type: r.updateDto })
    @ApiUpdateRoute(r.responseDto, ...(r.extraProblems ?? []))
    async replace(
      @IdParam() id: number,
      @updateBody body: UDto,
      @CurrentUser() user: AuthenticatedUser,
      @RequestLinks() links: Links,
    ) {
      return r.present(links, await this.service.update(id, r.updateInput(body), user), user);
    }

    @Patch(':id')
    @writeGuard
    @ApiOperation({
      summary: `Change some fields of ${aTitle}${forWriters}`,
      operationId: `update_${r.name}`,
    })
    @ApiBody({ type: r.updateDto })
    @ApiUpdateRoute(r.responseDto, ...(r.extraProblems ?? []))
    async update(
      @IdParam() id: number,
      @updateBody body: UDto,
      @CurrentUser() user: AuthenticatedUser,
      @RequestLinks() links: Links,
    ) {
      return r.present(links, await this.service.update(id, r.updateInput(body), user), user);
    }

    @Delete(':id')
    @writeGuard
    @ApiOperation({
      summary: `Delete ${aTitle}${forWriters}; 409 while in use`,
      operationId: `delete_${r.name}`,
    })
    @ApiDeleteRoute()
    async remove(@IdParam() id: number, @CurrentUser() user: AuthenticatedUser): Promise<void> {
      await this.service.remove(id, user);
    }
  }

  // The constructor's parameter type is the service class given at runtime.
  const dependencies = r.detailExtras ? [r.service, r.detailExtras] : [r.service];
  Reflect.defineMetadata('design:paramtypes', dependencies, CrudController);
  Object.defineProperty(CrudController, 'name', {
    value: `${r.title.replace(/\W/g, '')}Controller`,
  });
  return CrudController;
}
