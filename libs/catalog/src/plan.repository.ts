import { PlanEntity, translateStoreErrors } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DeepPartial, Repository } from 'typeorm';
import { CatalogTableRepository, definedOnly } from './catalog-table.repository';
import { EngineType } from './engine-type.repository';
import { Environment } from './environment.repository';

export interface Plan {
  id: number;
  name: string;
  description: string;
  engineId: number;
  /** The environments it is offered in (`plan_environment`). */
  environmentIds: number[];
  /** 0 = unlimited. */
  sizeLimitInBytes: number;
  /** The UTC hour (0-23) of the daily scheduled backup; null = no scheduled backups. */
  backupHour: number | null;
  /** Days a scheduled or final backup is kept; 0 = no final backup before a hard delete. */
  backupRetentionDays: number;
  /** Connections each database may hold at once; 0 = none. */
  maxConnections: number;
  isActive: boolean;
  isDefault: boolean;
}

export type PlanWrite = Omit<Plan, 'id'>;

/** An active plan with what the broker catalog shows of it. */
export interface OfferedPlan extends Plan {
  engineType: EngineType;
  environments: Environment[];
}

/** The `plan` table and its `plan_environment` links. */
@Injectable()
export class PlanRepository extends CatalogTableRepository<PlanEntity, Plan, PlanWrite> {
  readonly resource = 'plan';
  protected override readonly relations = { environments: true };

  constructor(@InjectRepository(PlanEntity) repo: Repository<PlanEntity>) {
    super(repo);
  }

  /** Sets the given columns and, when given, the environments it is offered in. */
  override async update(id: number, changes: Partial<PlanWrite>): Promise<void> {
    const { environmentIds, ...columns } = changes;
    if (environmentIds !== undefined) {
      // save() diffs the plan_environment rows against the stored ones.
      const environments = environmentIds.map((environment) => ({ id: environment }));
      await translateStoreErrors(this.resource, () => this.repo.save({ id, environments }));
    }
    await super.update(id, columns);
  }

  /** Every active plan with its engine type and environments, in id order (OSB catalog). */
  async listOffered(): Promise<OfferedPlan[]> {
    const rows = await this.repo.find({
      where: { isActive: true },
      relations: { engine: { engineType: true }, environments: true },
      order: { id: 'ASC' },
    });
    return rows.map((row) => ({
      ...this.toModel(row),
      engineType: { id: row.engine.engineType.id, name: row.engine.engineType.name },
      environments: row.environments.map((e) => ({ id: e.id, name: e.name })),
    }));
  }

  protected toModel(row: PlanEntity): Plan {
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      engineId: row.engineId,
      environmentIds: row.environments.map((environment) => environment.id),
      sizeLimitInBytes: row.sizeLimitInBytes,
      backupHour: row.backupHour,
      backupRetentionDays: row.backupRetentionDays,
      maxConnections: row.maxConnections,
      isActive: row.isActive,
      isDefault: row.isDefault,
    };
  }

  protected toRow(values: Partial<PlanWrite>): DeepPartial<PlanEntity> {
    return definedOnly({
      name: values.name,
      description: values.description,
      engineId: values.engineId,
      environments: values.environmentIds?.map((id) => ({ id })),
      sizeLimitInBytes: values.sizeLimitInBytes,
      backupHour: values.backupHour,
      backupRetentionDays: values.backupRetentionDays,
      maxConnections: values.maxConnections,
      isActive: values.isActive,
      isDefault: values.isDefault,
    });
  }
}
