import { InfraInput } from '@dbaas/catalog';
import { InfraEntity } from '@dbaas/persistence';
import { ApiProperty, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsNotEmpty,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { SelfLinkDto } from '../http/api-docs.decorators';
import { Links } from '../http/links';
import { CatalogName } from '../http/name.validators';
import { Reference } from '../http/reference';

/** `host:port`, with a DNS name, IPv4 or bracketed IPv6 host. */
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,252})):([1-9]\d{0,4})$/;

export class CreateInfraDto {
  @ApiProperty({ example: 'postgresql-dev-1' })
  @CatalogName()
  name: string;

  @ApiProperty({ example: '/api/engine/1/' })
  @Reference('engine')
  engine: number;

  @ApiProperty({ example: '/api/plan/1/' })
  @Reference('plan')
  plan: number;

  @ApiProperty({ example: '/api/environment/1/' })
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

  @ApiProperty({ example: 100, description: 'How many databases it may hold.' })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  capacity: number;
}
export class UpdateInfraDto extends PartialType(CreateInfraDto) {}

export class InfraDto {
  @ApiProperty({ type: SelfLinkDto })
  _links: SelfLinkDto;
  @ApiProperty({ example: 1 })
  id: number;
  @ApiProperty({ example: 'postgresql-dev-1' })
  name: string;
  @ApiProperty({ example: 'http://localhost:8000/api/engine/1/' })
  engine: string;
  @ApiProperty({ example: 'http://localhost:8000/api/plan/1/' })
  plan: string;
  @ApiProperty({ example: 'http://localhost:8000/api/environment/1/' })
  environment: string;
  @ApiProperty({ example: ['127.0.0.1:5432'], type: [String] })
  addresses: string[];
  @ApiProperty({ example: 'postgres' })
  admin_user: string;
  @ApiProperty({ example: 100 })
  capacity: number;
}

export const infraInput = (dto: UpdateInfraDto): Partial<InfraInput> => ({
  name: dto.name,
  engine: dto.engine,
  plan: dto.plan,
  environment: dto.environment,
  addresses: dto.addresses,
  adminUser: dto.admin_user,
  adminPassword: dto.admin_password,
  capacity: dto.capacity,
});

export const presentInfra = (links: Links, row: InfraEntity): InfraDto =>
  links.item('infra', {
    id: row.id,
    name: row.name,
    engine: links.to('engine', row.engineId),
    plan: links.to('plan', row.planId),
    environment: links.to('environment', row.environmentId),
    addresses: row.addresses,
    admin_user: row.adminUser,
    capacity: row.capacity,
  });
