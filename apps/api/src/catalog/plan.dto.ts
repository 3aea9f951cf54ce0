import { Plan, PlanInput } from '@dbaas/catalog';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  IsArray,
  IsBoolean,
  IsInt,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { Links } from '../http/links';
import { CatalogName } from '../http/name.validators';
import { Reference } from '../http/reference';
import { SelfLink } from '../http/api-docs.decorators';

/** Optional, but not null: null is checked like a value (and refused by the rules after). */
const given = (_body: object, value: unknown) => value !== undefined;

export class CreatePlanDto {
  @ApiProperty({ example: 'postgresql-small' })
  @CatalogName()
  name: string;

  @ApiPropertyOptional({ example: 'PostgreSQL, 1 GiB' })
  @ValidateIf(given)
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiProperty({
    description: 'Engine reference: URL, path or id.',
    example: '/api/engine/1/',
    type: String,
  })
  @Reference('engine')
  engine: number;

  @ApiProperty({
    description: 'Environments the plan is offered in: URLs, paths or ids.',
    example: ['/api/environment/1/'],
    type: [String],
  })
  @IsArray()
  @Reference('environment', { each: true })
  environments: number[];

  @ApiPropertyOptional({
    type: 'integer',
    description: 'Size limit in bytes; 0 = unlimited.',
    example: 1073741824,
    default: 0,
  })
  @ValidateIf(given)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  size_limit_in_bytes?: number;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: 23,
    description:
      'The UTC hour (0-23) of the daily scheduled backup of each database of the plan; null (the default) = no scheduled backups.',
    example: 2,
  })
  @ValidateIf((body: CreatePlanDto) => body.backup_hour !== undefined && body.backup_hour !== null)
  @IsInt()
  @Min(0)
  @Max(23)
  backup_hour?: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description:
      'Days a scheduled or final backup is kept before the expiry job removes it (7 when not given); 0 = no final backup before a hard delete.',
    example: 7,
  })
  @ValidateIf(given)
  @IsInt()
  @Min(0)
  @Max(36500)
  backup_retention_days?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description:
      "Connections each database of the plan may hold at once; 0 (the default) = none. PostgreSQL: the database's CONNECTION LIMIT; MySQL/MariaDB: MAX_USER_CONNECTIONS of each credential. Engines that cannot enforce it (Redis, MongoDB) refuse a plan with a limit (400).",
    example: 0,
  })
  @ValidateIf(given)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  max_connections?: number;

  @ApiPropertyOptional({ default: true })
  @ValidateIf(given)
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ default: false })
  @ValidateIf(given)
  @IsBoolean()
  is_default?: boolean;
}

/** Every field optional; null is validated like a value (only `backup_hour` takes it). */
export class UpdatePlanDto extends PartialType(CreatePlanDto, { skipNullProperties: false }) {}

export class PlanDto {
  @ApiProperty({ type: SelfLink('plan') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'postgresql-small' })
  name: string;
  @ApiProperty({ example: 'PostgreSQL, 1 GiB' })
  description: string;
  @ApiProperty({ example: 'http://localhost:8000/api/engine/1/' })
  engine: string;
  @ApiProperty({ example: ['http://localhost:8000/api/environment/1/'], type: [String] })
  environments: string[];
  @ApiProperty({ type: 'integer', example: 0, description: '0 = unlimited.' })
  size_limit_in_bytes: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 2,
    description: 'UTC hour of the daily scheduled backup; null = none.',
  })
  backup_hour: number | null;
  @ApiProperty({
    type: 'integer',
    example: 7,
    description: 'Days a scheduled or final backup is kept (0 = no final backup).',
  })
  backup_retention_days: number;
  @ApiProperty({ type: 'integer', example: 0, description: '0 = none.' })
  max_connections: number;
  @ApiProperty({ example: true })
  is_active: boolean;
  @ApiProperty({ example: true })
  is_default: boolean;
}

export function planInput(dto: UpdatePlanDto): Partial<PlanInput> {
  return {
    name: dto.name,
    description: dto.description,
    engine: dto.engine,
    environments: dto.environments,
    sizeLimitInBytes: dto.size_limit_in_bytes,
    backupHour: dto.backup_hour,
    backupRetentionDays: dto.backup_retention_days,
    maxConnections: dto.max_connections,
    isActive: dto.is_active,
    isDefault: dto.is_default,
  };
}

export function presentPlan(links: Links, plan: Plan): PlanDto {
  return links.item('plan', {
    id: plan.id,
    name: plan.name,
    description: plan.description,
    engine: links.to('engine', plan.engineId),
    environments: plan.environmentIds.map((id) => links.to('environment', id)),
    size_limit_in_bytes: plan.sizeLimitInBytes,
    backup_hour: plan.backupHour,
    backup_retention_days: plan.backupRetentionDays,
    max_connections: plan.maxConnections,
    is_active: plan.isActive,
    is_default: plan.isDefault,
  });
}
