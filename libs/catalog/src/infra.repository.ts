import { InfraEntity, translateStoreErrors } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DeepPartial, Repository } from 'typeorm';
import { CatalogTableRepository, definedOnly } from './catalog-table.repository';

/** An engine server or cluster that hosts databases (never with its admin password). */
export interface Infra {
  id: number;
  name: string;
  engineId: number;
  /** The plans it serves (`infra_plan`), in id order; never empty. */
  planIds: number[];
  environmentId: number;
  /** `host:port` strings. */
  addresses: string[];
  adminUser: string;
  /** How many databases it may hold. */
  capacity: number;
}

export type InfraWrite = Omit<Infra, 'id'> & {
  /** Sealed with SecretBox by the caller. */
  adminPasswordEncrypted: string;
};

/** An infra in the readiness list: which engine type to probe it with. */
export interface InfraSummary {
  id: number;
  name: string;
  engineType: string;
}

/**
 * The `infra` table. Every write through it tells the `onWrite` listeners (InfraAccess
 * drops its cached logins), so an edited infra is never used with its old address or login.
 */
@Injectable()
export class InfraRepository extends CatalogTableRepository<InfraEntity, Infra, InfraWrite> {
  readonly resource = 'infra';
  protected override readonly relations = { plans: true };
  private readonly writeListeners: (() => void)[] = [];

  constructor(@InjectRepository(InfraEntity) repo: Repository<InfraEntity>) {
    super(repo);
  }

  /** Calls `listener` after every insert, update and delete made through this repository. */
  onWrite(listener: () => void): void {
    this.writeListeners.push(listener);
  }

  override async insert(values: InfraWrite): Promise<number> {
    const id = await super.insert(values);
    this.written();
    return id;
  }

  /** Sets the given columns and, when given, the plans it serves. */
  override async update(id: number, changes: Partial<InfraWrite>): Promise<void> {
    const { planIds, ...columns } = changes;
    if (planIds !== undefined) {
      // save() diffs the infra_plan rows against the stored ones.
      const plans = planIds.map((plan) => ({ id: plan }));
      await translateStoreErrors(this.resource, () => this.repo.save({ id, plans }));
    }
    await super.update(id, columns);
    this.written();
  }

  override async delete(id: number): Promise<void> {
    await super.delete(id);
    this.written();
  }

  /**
   * The infra with its engine type and its sealed admin password, for the engine layer
   * only (InfraAccess); throws if there is no such infra.
   */
  findForEngineAccess(id: number): Promise<InfraEntity> {
    return this.repo
      .createQueryBuilder('infra')
      .addSelect('infra.adminPasswordEncrypted')
      .innerJoinAndSelect('infra.engine', 'engine')
      .innerJoinAndSelect('engine.engineType', 'engineType')
      .where('infra.id = :id', { id })
      .getOneOrFail();
  }

  /** Every infra with its engine type name, in id order (the readiness probe). */
  listSummaries(): Promise<InfraSummary[]> {
    return this.repo.query<InfraSummary[]>(
      `SELECT i.id, i.name, et.name AS "engineType"
         FROM infra i
         JOIN engine e ON e.id = i.engine_id
         JOIN engine_type et ON et.id = e.engine_type_id
        ORDER BY i.id`,
    );
  }

  protected toModel(row: InfraEntity): Infra {
    return {
      id: row.id,
      name: row.name,
      engineId: row.engineId,
      planIds: row.plans.map((plan) => plan.id).sort((a, b) => a - b),
      environmentId: row.environmentId,
      addresses: row.addresses,
      adminUser: row.adminUser,
      capacity: row.capacity,
    };
  }

  protected toRow(values: Partial<InfraWrite>): DeepPartial<InfraEntity> {
    return definedOnly({
      name: values.name,
      engineId: values.engineId,
      plans: values.planIds?.map((id) => ({ id })),
      environmentId: values.environmentId,
      addresses: values.addresses,
      adminUser: values.adminUser,
      adminPasswordEncrypted: values.adminPasswordEncrypted,
      capacity: values.capacity,
    });
  }

  private written(): void {
    for (const listener of this.writeListeners) listener();
  }
}
