import { Authenticated, AuthenticatedUser, CurrentUser } from '@dbaas/auth';
import { BackupsService } from '@dbaas/backups';
import { DatabasesService } from '@dbaas/databases';
import { Controller, Delete, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Idempotent } from '../idempotency/idempotent.decorator';
import {
  ApiDeleteRoute,
  ApiDetailRoute,
  ApiIdParam,
  ApiListRoute,
  ApiProblems,
  locationHeader,
} from '../http/api-docs.decorators';
import { IdParam } from '../http/id-param.pipe';
import { Links, RequestLinks } from '../http/links';
import { pageOf } from '../http/page-query.dto';
import { presentTask, TaskDto } from '../tasks/task.dto';
import { BackupDto, BackupQueryDto, presentBackup } from './backup.dto';

/** 202 answers name what goes on in `Location`: the backup taken, the task of a restore. */
function accepted<T extends { _links: { self: string } }>(reply: FastifyReply, body: T): T {
  void reply.header('Location', body._links.self);
  return body;
}

@ApiTags('backup')
@Authenticated()
@Controller('api/backup')
export class BackupController {
  constructor(private readonly backups: BackupsService) {}

  @Get()
  @ApiOperation({
    summary: 'List the backups you may see (your teams’), newest first',
    operationId: 'list_backup',
  })
  @ApiListRoute(BackupDto, 'backup')
  async list(
    @Query() query: BackupQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    const page = pageOf(query);
    const { items, count } = await this.backups.list(page, user, {
      database: query.database,
      status: query.status,
      kind: query.kind,
    });
    return links.list(
      'backup',
      page,
      count,
      items.map((item) => presentBackup(links, item)),
    );
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Get a backup (while running, size_in_bytes shows its progress)',
    operationId: 'get_backup',
  })
  @ApiDetailRoute(BackupDto)
  async get(
    @IdParam() id: number,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    return presentBackup(links, await this.backups.findVisible(id, user));
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Delete a ready or failed backup: its file, then the record',
    description:
      'A task `delete_backup`. 409 while the backup is running, being deleted or being restored.',
    operationId: 'delete_backup',
  })
  @ApiDeleteRoute()
  async remove(@IdParam() id: number, @CurrentUser() user: AuthenticatedUser): Promise<void> {
    await this.backups.delete(id, user);
  }

  @Post(':id/restore')
  @Idempotent()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Restore a backup into its database, in place (202: the task)',
    description:
      'The database becomes exactly the backup’s data, under its lock: its open sessions are ended, its credentials and passwords are unchanged. It is `restoring_backup` meanwhile. 409 unless both the backup and the database are `ready`; 503 when the engine does not answer (nothing changed). Follow the task in `Location`.',
    operationId: 'restore_backup',
  })
  @ApiIdParam()
  @ApiAcceptedResponse({
    type: TaskDto,
    description: 'Accepted: the restore runs as this task.',
    headers: locationHeader(TaskDto),
  })
  @ApiProblems(404, 409, 503)
  async restore(
    @IdParam() id: number,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskDto> {
    const { task } = await this.backups.restore(id, user);
    return accepted(reply, presentTask(links, task, user));
  }
}

@ApiTags('backup')
@Authenticated()
@Controller('api/database')
export class DatabaseBackupController {
  constructor(
    private readonly backups: BackupsService,
    private readonly databases: DatabasesService,
  ) {}

  @Post(':id/backup')
  @Idempotent()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Back up a database now (202: the backup, running)',
    description:
      'Dumps the database with its engine’s own tool into a sealed file, as a task `backup_database`. Follow the backup in `Location`: `running`, then `ready` or `failed`. 409 unless the database is `ready`; 503 when its engine does not answer (nothing is recorded).',
    operationId: 'backup_database',
  })
  @ApiIdParam()
  @ApiAcceptedResponse({
    type: BackupDto,
    description: 'Accepted: the new backup, `running`.',
    headers: locationHeader(BackupDto),
  })
  @ApiProblems(404, 409, 503)
  async backup(
    @IdParam() id: number,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BackupDto> {
    const database = await this.databases.findVisible(id, user);
    const started = await this.backups.start(database, 'manual', user.id);
    // Only a scheduled backup can find its day taken.
    if (!started) throw new Error('A manual backup was not recorded');
    return accepted(reply, presentBackup(links, started.backup));
  }
}
