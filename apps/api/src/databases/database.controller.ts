import { Authenticated, AuthenticatedUser, CurrentUser } from '@dbaas/auth';
import { CloneService } from '@dbaas/backups';
import { AcceptedDatabase, DatabasesService } from '@dbaas/databases';
import { QuarantineService } from '@dbaas/quarantine';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Patch,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Idempotent } from '../idempotency/idempotent.decorator';
import {
  ApiCreateRoute,
  ApiDeleteRoute,
  ApiDetailRoute,
  ApiListRoute,
  ApiProblems,
  ApiUpdateRoute,
  ApiIdParam,
  locationHeader,
} from '../http/api-docs.decorators';
import { created } from '../http/created';
import { IdParam } from '../http/id-param.pipe';
import { Links, RequestLinks } from '../http/links';
import { pageOf } from '../http/page-query.dto';
import {
  AcceptedDatabaseDto,
  CreateCloneDto,
  CreateDatabaseDto,
  databaseChanges,
  DatabaseDto,
  databaseFilter,
  databaseInput,
  DatabaseQueryDto,
  DeleteDatabaseQueryDto,
  presentDatabase,
  UpdateDatabaseDto,
} from './database.dto';

@ApiTags('database')
@Authenticated()
@Controller('api/database')
export class DatabaseController {
  constructor(
    private readonly databases: DatabasesService,
    private readonly quarantine: QuarantineService,
    private readonly clones: CloneService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List the databases you may see', operationId: 'list_database' })
  @ApiListRoute(DatabaseDto, 'database')
  async list(
    @Query() query: DatabaseQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    const page = pageOf(query);
    const { items, count } = await this.databases.list(page, user, databaseFilter(query));
    return links.list(
      'database',
      page,
      count,
      items.map((view) => presentDatabase(links, view)),
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a database', operationId: 'get_database' })
  @ApiDetailRoute(DatabaseDto)
  async get(
    @IdParam() id: number,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    return presentDatabase(links, await this.databases.get(id, user));
  }

  @Post()
  @Idempotent()
  @ApiOperation({
    summary: 'Create a database on its engine, with the default credential u_<name>',
    description:
      "With `from_backup`, the new database starts with that backup's data: 202 with `Location`, the database `creating` and its task (as for a clone); `ready` once the task succeeds.",
    operationId: 'create_database',
  })
  @ApiCreateRoute(DatabaseDto, 404, 503)
  @ApiAcceptedResponse({
    type: AcceptedDatabaseDto,
    description: 'With `from_backup`: accepted, the data is restored by the task.',
    headers: locationHeader(DatabaseDto),
  })
  async create(
    @Body() body: CreateDatabaseDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DatabaseDto> {
    if (body.from_backup !== undefined) {
      const { from_backup: fromBackup, ...input } = body;
      const accepting = await this.clones.fromBackup({ ...databaseInput(input), fromBackup }, user);
      return accepted(reply, links, accepting);
    }
    return created(
      reply,
      presentDatabase(links, await this.databases.create(databaseInput(body), user)),
    );
  }

  @Post(':id/clone')
  @Idempotent()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Clone a ready database into a new one, with its own owner credential u_<name>',
    description:
      "A consistent snapshot of the live database, copied by the engine's own tools straight into the new database (no file in between). Same rules as a create: name, plan of the same engine offered in the environment (defaults: the source's), placement, quota. 202 with `Location`: the new database `creating`, then `ready`; the task says why if it failed (the new database is then rolled back).",
    operationId: 'clone_database',
  })
  @ApiIdParam()
  @ApiBody({ type: CreateCloneDto })
  @ApiAcceptedResponse({
    type: AcceptedDatabaseDto,
    description: 'Accepted: the data is copied by the task.',
    headers: locationHeader(DatabaseDto),
  })
  @ApiProblems(400, 403, 404, 409, 413, 415, 503)
  async clone(
    @IdParam() id: number,
    @Body() body: CreateCloneDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AcceptedDatabaseDto> {
    return accepted(reply, links, await this.clones.clone(id, body, user));
  }

  @Put(':id')
  @ApiOperation({
    summary: 'Change project, description, deletion protection or tags',
    operationId: 'replace_database',
  })
  @ApiUpdateRoute(DatabaseDto)
  replace(
    @IdParam() id: number,
    @Body() body: UpdateDatabaseDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    return this.update(id, body, user, links);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change project, description, deletion protection or tags',
    operationId: 'update_database',
  })
  @ApiUpdateRoute(DatabaseDto)
  async update(
    @IdParam() id: number,
    @Body() body: UpdateDatabaseDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    return presentDatabase(links, await this.databases.update(id, databaseChanges(body), user));
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Quarantine a live database; delete a quarantined one for real (dba)',
    description:
      "The first DELETE puts the database in quarantine: every credential loses access on the engine, no data is dropped. A second DELETE (dba) first takes a `final` backup (kept for the plan's `backup_retention_days`; none when that is 0), then drops users and database on the engine and deletes the records. A failed final backup stops it with 503, the database still quarantined, unless `?skip_backup=true`.",
    operationId: 'delete_database',
  })
  @ApiDeleteRoute(503)
  async remove(
    @IdParam() id: number,
    @Query() query: DeleteDatabaseQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<void> {
    await this.quarantine.delete(id, user, { skipBackup: query.skip_backup === true });
  }

  @Post(':id/restore')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Restore a quarantined database (dba); every credential gets a new password',
    operationId: 'restore_database',
  })
  @ApiIdParam()
  @ApiOkResponse({ type: DatabaseDto })
  @ApiProblems(403, 404, 409, 503)
  async restore(
    @IdParam() id: number,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    await this.quarantine.restore(id, user);
    return presentDatabase(links, await this.databases.get(id, user));
  }
}

/** 202 with `Location`: the new database (`creating`) and the task that fills it. */
function accepted(
  reply: FastifyReply,
  links: Links,
  { view, task }: AcceptedDatabase,
): AcceptedDatabaseDto {
  void reply.status(202);
  const body = { ...presentDatabase(links, view), task: links.to('task', task.id) };
  void reply.header('Location', body._links.self);
  return body;
}
