import { EngineTypeEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CatalogTableRepository } from './catalog-table.repository';

export interface EngineType {
  id: number;
  /** One of postgresql, mysql, mongodb, redis. */
  name: string;
}

export type EngineTypeWrite = Omit<EngineType, 'id'>;

/** The `engine_type` table. */
@Injectable()
export class EngineTypeRepository extends CatalogTableRepository<
  EngineTypeEntity,
  EngineType,
  EngineTypeWrite
> {
  readonly resource = 'engine_type';

  constructor(@InjectRepository(EngineTypeEntity) repo: Repository<EngineTypeEntity>) {
    super(repo);
  }

  protected toModel(row: EngineTypeEntity): EngineType {
    return { id: row.id, name: row.name };
  }

  protected toRow(values: Partial<EngineTypeWrite>) {
    return { name: values.name };
  }
}
