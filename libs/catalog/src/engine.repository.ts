import { EngineEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CatalogTableRepository } from './catalog-table.repository';

/** An engine version dbaas offers (PostgreSQL 15). */
export interface Engine {
  id: number;
  engineTypeId: number;
  version: string;
}

export type EngineWrite = Omit<Engine, 'id'>;

/** The `engine` table. */
@Injectable()
export class EngineRepository extends CatalogTableRepository<EngineEntity, Engine, EngineWrite> {
  readonly resource = 'engine';

  constructor(@InjectRepository(EngineEntity) repo: Repository<EngineEntity>) {
    super(repo);
  }

  protected toModel(row: EngineEntity): Engine {
    return { id: row.id, engineTypeId: row.engineTypeId, version: row.version };
  }

  protected toRow(values: Partial<EngineWrite>) {
    return { engineTypeId: values.engineTypeId, version: values.version };
  }
}
