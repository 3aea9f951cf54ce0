import { EnvironmentEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CatalogTableRepository } from './catalog-table.repository';

export interface Environment {
  id: number;
  name: string;
}

export type EnvironmentWrite = Omit<Environment, 'id'>;

/** The `environment` table. */
@Injectable()
export class EnvironmentRepository extends CatalogTableRepository<
  EnvironmentEntity,
  Environment,
  EnvironmentWrite
> {
  readonly resource = 'environment';

  constructor(@InjectRepository(EnvironmentEntity) repo: Repository<EnvironmentEntity>) {
    super(repo);
  }

  protected toModel(row: EnvironmentEntity): Environment {
    return { id: row.id, name: row.name };
  }

  protected toRow(values: Partial<EnvironmentWrite>) {
    return { name: values.name };
  }
}
