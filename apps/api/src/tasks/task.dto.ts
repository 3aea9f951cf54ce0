import { AuthenticatedUser } from '@dbaas/auth';
import { TASK_STATUSES, TASK_TYPES, TaskEntity, TaskStatus, TaskType } from '@dbaas/persistence';
import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { SelfLink } from '../http/api-docs.decorators';
import { taskErrorForViewer } from '../http/engine-error-visibility';
import { Links } from '../http/links';
import { PageQueryDto } from '../http/page-query.dto';
import { Reference } from '../http/reference';

class TaskFilterDto {
  @ApiPropertyOptional({ type: String, description: 'Database reference.' })
  @IsOptional()
  @Reference('database')
  database?: number;

  @ApiPropertyOptional({ enum: TASK_STATUSES })
  @IsOptional()
  @IsIn(TASK_STATUSES)
  status?: TaskStatus;

  @ApiPropertyOptional({ enum: TASK_TYPES })
  @IsOptional()
  @IsIn(TASK_TYPES)
  type?: TaskType;
}

export class TaskQueryDto extends IntersectionType(PageQueryDto, TaskFilterDto) {}

export class TaskDto {
  @ApiProperty({ type: SelfLink('task') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ enum: TASK_TYPES, example: 'create_database' })
  type: string;
  @ApiProperty({ enum: TASK_STATUSES, example: 'success' })
  status: string;
  @ApiProperty({
    example: 'http://localhost:8000/api/user/1/',
    nullable: true,
    type: String,
    description: 'Null for the system’s own work.',
  })
  user: string | null;
  @ApiProperty({ example: 'http://localhost:8000/api/database/1/', nullable: true, type: String })
  database: string | null;
  @ApiProperty({ example: 'test_database2', nullable: true, type: String })
  database_name: string | null;
  @ApiProperty({ example: null, nullable: true, type: String })
  origin: string | null;
  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    description: 'What went wrong; never a secret.',
  })
  error: string | null;
  @ApiProperty({ example: '2026-11-27T09:00:00.000Z' })
  created_at: string;
  @ApiProperty({ example: '2026-11-27T09:00:00.100Z', nullable: true, type: String })
  started_at: string | null;
  @ApiProperty({ example: '2026-11-27T09:00:00.900Z', nullable: true, type: String })
  ended_at: string | null;
}

export const presentTask = (links: Links, task: TaskEntity, viewer: AuthenticatedUser): TaskDto =>
  links.item('task', {
    id: task.id,
    type: task.type,
    status: task.status,
    user: links.to('user', task.userId),
    database: links.to('database', task.databaseId),
    database_name: task.databaseName,
    origin: task.origin,
    error: taskErrorForViewer(task.error, viewer),
    created_at: task.createdAt.toISOString(),
    started_at: task.startedAt?.toISOString() ?? null,
    ended_at: task.endedAt?.toISOString() ?? null,
  });
