import { Authenticated, AuthenticatedUser, CurrentUser } from '@dbaas/auth';
import { TaskHistory } from '@dbaas/operations';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiDetailRoute, ApiListRoute } from '../http/api-docs.decorators';
import { IdParam } from '../http/id-param.pipe';
import { Links, RequestLinks } from '../http/links';
import { pageOf } from '../http/page-query.dto';
import { presentTask, TaskDto, TaskQueryDto } from './task.dto';

/** Read-only history of every operation that touched an engine, newest first. */
@ApiTags('task')
@Authenticated()
@Controller('api/task')
export class TaskController {
  constructor(private readonly history: TaskHistory) {}

  @Get()
  @ApiOperation({
    summary: 'List tasks, newest first (regular users: their teams’ databases)',
    operationId: 'list_task',
  })
  @ApiListRoute(TaskDto, 'task')
  async list(
    @Query() query: TaskQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    const page = pageOf(query);
    const { items, count } = await this.history.list(page, user, {
      database: query.database,
      status: query.status,
      type: query.type,
    });
    return links.list(
      'task',
      page,
      count,
      items.map((task) => presentTask(links, task, user)),
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a task', operationId: 'get_task' })
  @ApiDetailRoute(TaskDto)
  async get(
    @IdParam() id: number,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    return presentTask(links, await this.history.get(id, user), user);
  }
}
