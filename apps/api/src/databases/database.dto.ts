import {
  DatabaseChanges,
  DatabaseInput,
  DatabaseView,
  MAX_TAGS,
  TAG_PATTERN,
} from '@dbaas/databases';
import { DATABASE_STATUSES } from '@dbaas/persistence';
import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';

import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { SelfLink } from '../http/api-docs.decorators';
import { Links } from '../http/links';
import { PageQueryDto } from '../http/page-query.dto';
import { Reference } from '../http/reference';

/** `plan` and `environment` are required unless `from_backup` gives their defaults. */
const withoutBackupOrGiven = (dto: CreateDatabaseDto, value: unknown) =>
  dto.from_backup === undefined || value !== undefined;

export class CreateDatabaseDto {
  @ApiProperty({
    example: 'test database2',
    description:
      'Normalized to lower case, letters, digits and _, starting with a letter, at most 40 characters: "test database2" becomes test_database2.',
  })
  @IsString()
  @MaxLength(200)
  name: string;

  @ApiProperty({
    example: '/api/plan/1/',
    type: String,
    description:
      "Plan reference: URL, path or id. Optional with `from_backup` (default: the backup's plan).",
  })
  @ValidateIf(withoutBackupOrGiven)
  @Reference('plan')
  plan: number;

  @ApiProperty({
    example: '/api/environment/1/',
    type: String,
    description:
      "Environment reference: URL, path or id. Optional with `from_backup` (default: the backup's environment).",
  })
  @ValidateIf(withoutBackupOrGiven)
  @Reference('environment')
  environment: number;

  @ApiPropertyOptional({
    example: '/api/backup/1/',
    type: String,
    description:
      "Backup reference (URL, path or id): the new database starts with that backup's data (same engine; the backup `ready` and visible to you). The answer is then 202, as for a clone.",
  })
  @IsOptional()
  @Reference('backup')
  from_backup?: number;

  @ApiPropertyOptional({ example: '/api/project/1/', nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @Reference('project')
  project?: number | null;

  @ApiPropertyOptional({
    example: '/api/team/1/',
    type: String,
    description: "Team reference: URL, path or id. Default: the caller's only team.",
  })
  @IsOptional()
  @Reference('team')
  team?: number;

  @ApiPropertyOptional({ example: 'Orders of the web shop' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  // No `default` here: client generators would make the field required (openapi-typescript).
  @ApiPropertyOptional({
    example: true,
    description:
      'Default false. While true, a DELETE is refused (409; Open Service Broker deprovision: 422).',
  })
  @IsOptional()
  @IsBoolean()
  is_protected?: boolean;

  @TagsProperty()
  tags?: string[];
}

/** `POST /api/database/{id}/clone/`. */
export class CreateCloneDto {
  @ApiProperty({
    example: 'shop copy',
    description:
      'The new database\'s name, normalized as on a create ("shop copy" becomes shop_copy).',
  })
  @IsString()
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({
    example: '/api/plan/1/',
    type: String,
    description:
      "Plan reference (URL, path or id) of the source's engine. Default: the source's plan.",
  })
  @IsOptional()
  @Reference('plan')
  plan?: number;

  @ApiPropertyOptional({
    example: '/api/environment/1/',
    type: String,
    description: "Environment reference: URL, path or id. Default: the source's environment.",
  })
  @IsOptional()
  @Reference('environment')
  environment?: number;
}

/** `tags` on input: at most MAX_TAGS, each TAG_PATTERN. */
function TagsProperty(): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    ApiPropertyOptional({
      type: [String],
      example: ['shop', 'env:prod'],
      maxItems: MAX_TAGS,
      description: `At most ${MAX_TAGS} tags, each ${TAG_PATTERN.source}; duplicates are dropped. On update, replaces every tag.`,
    })(target, key);
    IsOptional()(target, key);
    IsArray()(target, key);
    ArrayMaxSize(MAX_TAGS, { message: `at most ${MAX_TAGS} tags` })(target, key);
    IsString({ each: true })(target, key);
    Matches(TAG_PATTERN, { each: true, message: `each tag must match ${TAG_PATTERN.source}` })(
      target,
      key,
    );
  };
}

/**
 * `project`, `description`, `is_protected` and `tags` may change; the others are accepted
 * when unchanged.
 */
export class UpdateDatabaseDto {
  @ApiPropertyOptional({ example: '/api/project/1/', nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @Reference('project')
  project?: number | null;

  @ApiPropertyOptional({ example: 'Orders of the web shop' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiPropertyOptional({
    readOnly: true,
    example: 'test_database2',
    description: 'Read-only after creation (400 if changed).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    readOnly: true,
    type: String,
    example: '/api/plan/1/',
    description: 'Read-only after creation (400 if changed).',
  })
  @IsOptional()
  @Reference('plan')
  plan?: number;

  @ApiPropertyOptional({
    readOnly: true,
    type: String,
    example: '/api/environment/1/',
    description: 'Read-only after creation (400 if changed).',
  })
  @IsOptional()
  @Reference('environment')
  environment?: number;

  @ApiPropertyOptional({
    example: true,
    description: 'While true, a DELETE is refused (409; Open Service Broker deprovision: 422).',
  })
  @IsOptional()
  @IsBoolean()
  is_protected?: boolean;

  @TagsProperty()
  tags?: string[];
}

// No examples on filters: Swagger UI pre-fills "Try it out" with them, and a list filtered by
// made-up values comes back empty.
class DatabaseFilterDto {
  @ApiPropertyOptional({ description: 'Exact database name.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ type: String, description: 'Environment reference: URL, path or id.' })
  @IsOptional()
  @Reference('environment')
  environment?: number;

  @ApiPropertyOptional({ type: String, description: 'Plan reference: URL, path or id.' })
  @IsOptional()
  @Reference('plan')
  plan?: number;

  @ApiPropertyOptional({ type: String, description: 'Project reference: URL, path or id.' })
  @IsOptional()
  @Reference('project')
  project?: number;

  @ApiPropertyOptional({ type: String, description: 'Team reference: URL, path or id.' })
  @IsOptional()
  @Reference('team')
  team?: number;

  @ApiPropertyOptional({ type: String, description: 'Engine reference: URL, path or id.' })
  @IsOptional()
  @Reference('engine')
  engine?: number;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'dba only: only quarantined (`?quarantine=true`) or only live (`false`).',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'must be true or false' })
  quarantine?: boolean;

  @ApiPropertyOptional({
    type: [String],
    description: 'Only databases carrying every one of these tags: `?tag=a&tag=b` (at most 20).',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === undefined || Array.isArray(value) ? value : [value],
  )
  @IsArray()
  @ArrayMaxSize(MAX_TAGS, { message: `at most ${MAX_TAGS} tags` })
  @IsString({ each: true })
  @Matches(TAG_PATTERN, { each: true, message: `each tag must match ${TAG_PATTERN.source}` })
  tag?: string[];
}

export class DatabaseQueryDto extends IntersectionType(PageQueryDto, DatabaseFilterDto) {}

export class DeleteDatabaseQueryDto {
  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description:
      'dba, second DELETE only: remove the database without its final backup (when that backup keeps failing and the data may go). Ignored by the first DELETE.',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'must be true or false' })
  skip_backup?: boolean;
}

export class DatabaseCredentialDto {
  @ApiProperty({ type: SelfLink('credential') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'u_test_database2' })
  user: string;
}

export class DatabaseDto {
  @ApiProperty({ type: SelfLink('database') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'test_database2' })
  name: string;
  @ApiProperty({ example: 'postgresql://<user>:<password>@127.0.0.1:5432/test_database2' })
  endpoint: string;
  @ApiProperty({ example: 'http://localhost:8000/api/plan/1/' })
  plan: string;
  @ApiProperty({ example: 'http://localhost:8000/api/environment/1/' })
  environment: string;
  @ApiProperty({ example: null, nullable: true, type: String })
  project: string | null;
  @ApiProperty({ example: 'http://localhost:8000/api/team/1/' })
  team: string;
  @ApiProperty({ example: 'http://localhost:8000/api/engine/1/' })
  engine: string;
  @ApiProperty({ enum: DATABASE_STATUSES, example: 'ready' })
  status: string;
  @ApiProperty({ example: null, nullable: true, type: String, description: 'YYYY-MM-DD' })
  quarantine_dt: string | null;
  @ApiProperty({ example: false, description: 'While true, a DELETE is refused (409).' })
  is_protected: boolean;
  @ApiProperty({ type: [String], example: ['shop', 'env:prod'] })
  tags: string[];
  @ApiProperty({
    type: 'integer',
    example: 0,
    description: "The plan's size limit; 0 = unlimited.",
  })
  total_size_in_bytes: number;
  @ApiProperty({
    example: 16924,
    nullable: true,
    type: 'integer',
    description: 'Measured on the engine, cached briefly; null until known.',
  })
  used_size_in_bytes: number | null;
  @ApiProperty({
    example: false,
    description:
      "Measured over the plan's size limit: every credential may read and delete but not write, until it is back under.",
  })
  over_size_limit: boolean;
  @ApiProperty({ type: [DatabaseCredentialDto] })
  credentials: DatabaseCredentialDto[];
  @ApiProperty({ example: '' })
  description: string;
  @ApiProperty({ example: '2026-11-27T09:00:00.000Z' })
  created_at: string;
}

/** A clone or a `from_backup` create accepted (202): the new database, `creating`, and its task. */
export class AcceptedDatabaseDto extends DatabaseDto {
  @ApiProperty({
    example: 'http://localhost:8000/api/task/1/',
    description:
      'The task that fills the database; it ends `success` (the database `ready`) or `error` (the database rolled back, the reason in the task).',
  })
  task: string;
}

export function presentDatabase(links: Links, view: DatabaseView): DatabaseDto {
  const { database } = view;
  return links.item('database', {
    id: database.id,
    name: database.name,
    endpoint: view.endpoint,
    plan: links.to('plan', database.planId),
    environment: links.to('environment', database.environmentId),
    project: links.to('project', database.projectId),
    team: links.to('team', database.teamId),
    engine: links.to('engine', view.engineId),
    status: database.status,
    quarantine_dt: database.quarantineDt,
    is_protected: database.isProtected,
    tags: database.tags,
    total_size_in_bytes: view.totalSizeInBytes,
    used_size_in_bytes: view.usedSizeInBytes,
    over_size_limit: database.overSizeLimit,
    credentials: (database.credentials ?? []).map((credential) =>
      links.item('credential', { id: credential.id, user: credential.user }),
    ),
    description: database.description,
    created_at: database.createdAt.toISOString(),
  });
}

export const databaseFilter = (query: DatabaseQueryDto) => ({
  name: query.name,
  environment: query.environment,
  plan: query.plan,
  project: query.project,
  team: query.team,
  engine: query.engine,
  quarantine: query.quarantine,
  tags: query.tag,
});

export const databaseInput = ({ is_protected, ...dto }: CreateDatabaseDto): DatabaseInput => ({
  ...dto,
  isProtected: is_protected,
});

export const databaseChanges = ({ is_protected, ...dto }: UpdateDatabaseDto): DatabaseChanges => ({
  ...dto,
  isProtected: is_protected,
});
