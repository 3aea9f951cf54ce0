import { AuthenticatedUser } from '@dbaas/auth';
import { Infra, InfraInput } from '@dbaas/catalog';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { ValidationFailedError } from '@dbaas/core';
import { SelfLink } from '../http/api-docs.decorators';
import { Links } from '../http/links';
import { CatalogName } from '../http/name.validators';
import { Reference } from '../http/reference';

/** `host:port`, with a DNS name, IPv4 or bracketed IPv6 host. */
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,252})):([1-9]\d{0,4})$/;

export class CreateInfraDto {
  @ApiProperty({ example: 'postgresql-dev-1' })
  @CatalogName()
  name: string;

  @ApiProperty({
    example: '/api/engine/1/',
    type: String,
    description: 'Engine reference: URL, path or id.',
  })
  @Reference('engine')
  engine: number;

  @ApiPropertyOptional({
    example: '/api/plan/1/',
    type: String,
    description:
      'Plan reference: URL, path or id. The one plan it serves, when `plans` is not given; with `plans`, it must be one of them.',
  })
  @ValidateIf((dto: CreateInfraDto) => dto.plans === undefined || dto.plan !== undefined)
  @Reference('plan')
  plan?: number;

  @ApiPropertyOptional({
    example: ['/api/plan/1/', '/api/plan/2/'],
    type: [String],
    description:
      'The plans it serves, all of its engine and offered in its environment: URLs, paths or ids. Limits are per database, so one server can host a small and a large plan.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Reference('plan', { each: true })
  plans?: number[];

  @ApiProperty({
    example: '/api/environment/1/',
    type: String,
    description: 'Environment reference: URL, path or id.',
  })
  @Reference('environment')
  environment: number;

  @ApiProperty({
    example: ['127.0.0.1:5432'],
    type: [String],
    description: 'One or more host:port.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(16)
  @Matches(ADDRESS, { each: true, message: 'each address must be host:port' })
  addresses: string[];

  @ApiProperty({ example: 'postgres' })
  @CatalogName(63)
  admin_user: string;

  @ApiProperty({ example: 'secret', writeOnly: true, description: 'Write-only; stored encrypted.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  admin_password: string;

  @ApiProperty({ type: 'integer', example: 100, description: 'How many databases it may hold.' })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  capacity: number;
}
export class UpdateInfraDto extends PartialType(CreateInfraDto) {}

/** Whether dbaas reaches the infra with its admin login, measured on each detail request (dba only). */
export class InfraReachabilityDto {
  @ApiProperty({ example: true })
  reachable: boolean;
  @ApiProperty({ type: String, nullable: true, example: '15.14', description: 'Engine version.' })
  version: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Why it is unreachable; never a secret.',
  })
  error: string | null;
}

export class InfraDatabasesDto {
  @ApiProperty({
    type: 'integer',
    example: 3,
    description:
      'Slots taken: the databases placed on it (quarantined included) and those moving to it (a plan change in progress).',
  })
  placed: number;
  @ApiProperty({ type: 'integer', example: 100 })
  capacity: number;
  @ApiProperty({ type: 'integer', example: 97, description: 'capacity - placed, at least 0.' })
  free: number;
}

export class InfraDto {
  @ApiProperty({ type: SelfLink('infra') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'postgresql-dev-1' })
  name: string;
  @ApiProperty({ example: 'http://localhost:8000/api/engine/1/' })
  engine: string;
  @ApiProperty({
    example: 'http://localhost:8000/api/plan/1/',
    description: 'The first of `plans` (kept for clients that know one plan per infra).',
  })
  plan: string;
  @ApiProperty({
    example: ['http://localhost:8000/api/plan/1/', 'http://localhost:8000/api/plan/2/'],
    type: [String],
    description: 'The plans it serves, in id order.',
  })
  plans: string[];
  @ApiProperty({ example: 'http://localhost:8000/api/environment/1/' })
  environment: string;
  @ApiPropertyOptional({
    example: ['127.0.0.1:5432'],
    type: [String],
    description: 'dba only.',
  })
  addresses?: string[];
  @ApiPropertyOptional({ example: 'postgres', description: 'dba only.' })
  admin_user?: string;
  @ApiProperty({ type: 'integer', example: 100 })
  capacity: number;
  @ApiPropertyOptional({
    type: InfraReachabilityDto,
    description: 'Detail only, dba only: pinged live with the admin login.',
  })
  status?: InfraReachabilityDto;
  @ApiPropertyOptional({
    type: [String],
    example: [
      'PostgreSQL trusts connections from 127.0.0.1 (pg_hba.conf line 2): they log in without a password.',
    ],
    description:
      'Detail only, dba only: how the engine leaves its tenants unprotected (trust authentication, an admin or Redis default user without a password, Redis ACL changes not persisted). Empty when nothing was found or the infra is unreachable.',
  })
  warnings?: string[];
  @ApiPropertyOptional({ type: InfraDatabasesDto, description: 'Detail only.' })
  databases?: InfraDatabasesDto;
}

/**
 * `plans`, or `plan` alone as a one-plan list. Both may come (an infra read and sent back):
 * then `plan` must be one of `plans`.
 */
function plansOf(dto: UpdateInfraDto): number[] | undefined {
  if (dto.plans === undefined) return dto.plan === undefined ? undefined : [dto.plan];
  if (dto.plan !== undefined && !dto.plans.includes(dto.plan))
    throw new ValidationFailedError({ plan: ['must be one of plans (or leave it out)'] });
  return dto.plans;
}

export const infraInput = (dto: UpdateInfraDto): Partial<InfraInput> => ({
  name: dto.name,
  engine: dto.engine,
  plans: plansOf(dto),
  environment: dto.environment,
  addresses: dto.addresses,
  adminUser: dto.admin_user,
  adminPassword: dto.admin_password,
  capacity: dto.capacity,
});

/** Where the engine is and who administers it are for dbas only (SPEC §11). */
export const presentInfra = (links: Links, row: Infra, viewer: AuthenticatedUser): InfraDto =>
  links.item('infra', {
    id: row.id,
    name: row.name,
    engine: links.to('engine', row.engineId),
    plan: links.to('plan', row.planIds[0]),
    plans: row.planIds.map((id) => links.to('plan', id)),
    environment: links.to('environment', row.environmentId),
    ...(viewer.role === 'dba' ? { addresses: row.addresses, admin_user: row.adminUser } : {}),
    capacity: row.capacity,
  });
