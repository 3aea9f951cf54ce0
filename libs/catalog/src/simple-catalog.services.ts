import { Injectable } from '@nestjs/common';
import { CatalogCrud } from './catalog-crud';
import { Engine, EngineRepository, EngineWrite } from './engine.repository';
import { EngineType, EngineTypeRepository, EngineTypeWrite } from './engine-type.repository';
import { Environment, EnvironmentRepository, EnvironmentWrite } from './environment.repository';

/** The catalog resources that are little more than a name (projects: @dbaas/databases). */

@Injectable()
export class EngineTypesService extends CatalogCrud<EngineType, EngineTypeWrite> {
  constructor(types: EngineTypeRepository) {
    super(types);
  }
  create(input: { name: string }) {
    return this.insert(input);
  }
  update(id: number, input: { name?: string }) {
    return this.patch(id, input);
  }
}

@Injectable()
export class EnvironmentsService extends CatalogCrud<Environment, EnvironmentWrite> {
  constructor(environments: EnvironmentRepository) {
    super(environments);
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
export class EnginesService extends CatalogCrud<Engine, EngineWrite> {
  constructor(
    engines: EngineRepository,
    private readonly types: EngineTypeRepository,
  ) {
    super(engines);
  }
  async create(input: EngineInput) {
    await this.types.requireExisting('engine_type', [input.engineType]);
    return this.insert({ engineTypeId: input.engineType, version: input.version });
  }
  async update(id: number, input: Partial<EngineInput>) {
    if (input.engineType !== undefined) {
      await this.types.requireExisting('engine_type', [input.engineType]);
    }
    return this.patch(id, { engineTypeId: input.engineType, version: input.version });
  }
}
