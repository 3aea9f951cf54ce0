import { EngineType, Environment } from '@dbaas/catalog';
import { ProjectEntity } from '@dbaas/persistence';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ENGINE_TYPES } from '@dbaas/engines';
import { SelfLink } from '../http/api-docs.decorators';
import { Links } from '../http/links';
import { CatalogName } from '../http/name.validators';
import { Reference } from '../http/reference';

/** engine_type, environment and project: the catalog resources that are mostly a name. */

export class CreateEngineTypeDto {
  @ApiProperty({ enum: ENGINE_TYPES, example: ENGINE_TYPES[0] })
  @IsIn(ENGINE_TYPES)
  name: string;
}
export class UpdateEngineTypeDto extends PartialType(CreateEngineTypeDto) {}
export class EngineTypeDto {
  @ApiProperty({ type: SelfLink('engine_type') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ enum: ENGINE_TYPES, example: ENGINE_TYPES[0] })
  name: string;
}
export const presentEngineType = (links: Links, row: EngineType): EngineTypeDto =>
  links.item('engine_type', { id: row.id, name: row.name });

export class CreateEnvironmentDto {
  @ApiProperty({ example: 'dev' })
  @CatalogName()
  name: string;
}
export class UpdateEnvironmentDto extends PartialType(CreateEnvironmentDto) {}
export class EnvironmentDto {
  @ApiProperty({ type: SelfLink('environment') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'dev' })
  name: string;
}
export const presentEnvironment = (links: Links, row: Environment): EnvironmentDto =>
  links.item('environment', { id: row.id, name: row.name });

export class CreateProjectDto {
  @ApiProperty({ example: 'billing' })
  @CatalogName()
  name: string;

  @ApiPropertyOptional({ example: 'Invoices and payments' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiPropertyOptional({
    example: '/api/team/1/',
    type: String,
    description:
      "Owning team reference: URL, path or id. Default: the caller's only team. Changes only while no database is filed under the project.",
  })
  @IsOptional()
  @Reference('team')
  team?: number;
}
export class UpdateProjectDto extends PartialType(CreateProjectDto) {}
export class ProjectDto {
  @ApiProperty({ type: SelfLink('project') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'billing' })
  name: string;
  @ApiProperty({ example: 'Invoices and payments' })
  description: string;
  @ApiProperty({
    example: 'http://localhost:8000/api/team/1/',
    description: 'The team that owns the project: its members and dbas see it.',
  })
  team: string;
}
export const presentProject = (
  links: Links,
  row: Pick<ProjectEntity, 'id' | 'name' | 'description' | 'teamId'>,
): ProjectDto =>
  links.item('project', {
    id: row.id,
    name: row.name,
    description: row.description,
    team: links.to('team', row.teamId),
  });
