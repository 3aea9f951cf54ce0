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

  /** The engine type name of an engine (`postgresql`), or null if there is no such engine. */
  async typeNameOf(engineId: number): Promise<string | null> {
    const [row] = await this.repo.query<{ name: string }[]>(
      `SELECT engine_type.name FROM engine JOIN engine_type ON engine_type.id = engine.engine_type_id
        WHERE engine.id = $1`,
      [engineId],
    );
    return row?.name ?? null;
  }

  protected toModel(row: EngineEntity): Engine {
    return { id: row.id, engineTypeId: row.engineTypeId, version: row.version };
  }

  protected toRow(values: Partial<EngineWrite>) {
    return { engineTypeId: values.engineTypeId, version: values.version };
  }
}
