import { EngineEntity, EngineTypeEntity, EnvironmentEntity, requireOne } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CatalogCrud } from './catalog-crud';

/** The catalog resources that are little more than a name (projects: @dbaas/databases). */

@Injectable()
export class EngineTypesService extends CatalogCrud<EngineTypeEntity> {
  protected readonly resource = 'engine_type';
  constructor(@InjectRepository(EngineTypeEntity) repo: Repository<EngineTypeEntity>) {
    super(repo);
  }
  create(input: { name: string }) {
    return this.insert(input);
  }
  update(id: number, input: { name?: string }) {
    return this.patch(id, input);
  }
}

@Injectable()
export class EnvironmentsService extends CatalogCrud<EnvironmentEntity> {
  protected readonly resource = 'environment';
  constructor(@InjectRepository(EnvironmentEntity) repo: Repository<EnvironmentEntity>) {
    super(repo);
  }
  create(input: { name: string }) {
    return this.insert(input);
  }
  update(id: number, input: { name?: string }) {
    return this.patch(id, input);
  }
}

export interface EngineInput {
  engineType: number;
  version: string;
}

@Injectable()
export class EnginesService extends CatalogCrud<EngineEntity> {
  protected readonly resource = 'engine';
  protected override readonly relations = { engineType: true };
  constructor(
    @InjectRepository(EngineEntity) repo: Repository<EngineEntity>,
    @InjectRepository(EngineTypeEntity) private readonly types: Repository<EngineTypeEntity>,
  ) {
    super(repo);
  }
  async create(input: EngineInput) {
    await requireOne(this.types, 'engine_type', 'engine_type', input.engineType);
    return this.insert({ engineTypeId: input.engineType, version: input.version });
  }
  async update(id: number, input: Partial<EngineInput>) {
    if (input.engineType !== undefined) {
      await requireOne(this.types, 'engine_type', 'engine_type', input.engineType);
    }
    return this.patch(id, { engineTypeId: input.engineType, version: input.version });
  }
}
