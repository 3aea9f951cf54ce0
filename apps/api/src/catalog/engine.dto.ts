import { Engine, EngineInput } from '@dbaas/catalog';
import { ApiProperty, PartialType } from '@nestjs/swagger';
import { SelfLink } from '../http/api-docs.decorators';
import { Links } from '../http/links';
import { CatalogName } from '../http/name.validators';
import { Reference } from '../http/reference';

export class CreateEngineDto {
  @ApiProperty({
    description: 'Engine type reference: URL, path or id.',
    example: '/api/engine_type/1/',
    type: String,
  })
  @Reference('engine_type')
  engine_type: number;

  @ApiProperty({ example: '15' })
  @CatalogName(50)
  version: string;
}
export class UpdateEngineDto extends PartialType(CreateEngineDto) {}

export class EngineDto {
  @ApiProperty({ type: SelfLink('engine') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'http://localhost:8000/api/engine_type/1/' })
  engine_type: string;
  @ApiProperty({ example: '15' })
  version: string;
}

export const engineInput = (dto: UpdateEngineDto): Partial<EngineInput> => ({
  engineType: dto.engine_type,
  version: dto.version,
});

export const presentEngine = (links: Links, row: Engine): EngineDto =>
  links.item('engine', {
    id: row.id,
    engine_type: links.to('engine_type', row.engineTypeId),
    version: row.version,
  });
