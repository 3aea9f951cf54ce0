import { Authenticated, AuthenticatedUser, CurrentUser } from '@dbaas/auth';
import { DatabasesService } from '@dbaas/databases';
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
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
} from '../http/api-docs.decorators';
import { created } from '../http/created';
import { IdParam } from '../http/id-param.pipe';
import { Links, RequestLinks } from '../http/links';
import { pageOf } from '../http/page-query.dto';
import {
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
    operationId: 'create_database',
  })
  @ApiCreateRoute(DatabaseDto, 503)
  async create(
    @Body() body: CreateDatabaseDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DatabaseDto> {
    return created(
      reply,
      presentDatabase(links, await this.databases.create(databaseInput(body), user)),
    );
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
