import { InfraEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';

export const NO_CAPACITY_MESSAGE =
  'No engine server of this plan and environment has room for another database.';

/**
 * Where a new database goes, as a scalar subquery (the create checks run it with the other
 * checks, in one statement): among the infras of the environment that serve the plan
 * (`infra_plan`; an infra may serve several plans of its engine), the one with
 * the most free capacity (capacity minus databases placed on it or moving to or from it,
 * `placedOn`); NULL if none has room.
 * One count per candidate infra (an index-only scan of database_infra_id), not a join and
 * GROUP BY over every database. This only chooses: see roomOnInfraSql.
 */
export function placementChoiceSql(plan: string, environment: string): string {
  return `(SELECT infra.id
     FROM infra_plan served
     JOIN infra ON infra.id = served.infra_id
     CROSS JOIN LATERAL (SELECT ${placedOn('infra.id')} AS n) placed
    WHERE served.plan_id = ${plan} AND infra.environment_id = ${environment}
      AND infra.capacity - placed.n > 0
    ORDER BY infra.capacity - placed.n DESC, infra.id ASC
    LIMIT 1)`;
}

/**
 * True while the infra has room for one more database: the condition of the insert that
 * takes the slot (the database row is the slot), under the infra's store lock, so that two
 * creates cannot share the last slot. The insert is the databases lib's (it writes the
 * `database` row and links the create's task in the same statement).
 */
export function roomOnInfraSql(infra: string): string {
  return `(SELECT capacity FROM infra WHERE id = ${infra}) > ${placedOn(infra)}`;
}

/**
 * The databases holding a slot on an infra: those placed on it, and those moving to or
 * from it (`move_infra_id`, the other end of a move: see the databases lib's moves).
 */
export function placedOn(infra: string): string {
  return `((SELECT COUNT(*) FROM database WHERE infra_id = ${infra})
    + (SELECT COUNT(*) FROM database WHERE move_infra_id = ${infra}))`;
}

/**
 * Placement: which infra a new database goes to, and how full an infra is. The rule lives
 * in the two SQL functions above, which the create statements of the databases lib embed
 * (fused for speed); these methods run the same rule on their own.
 */
@Injectable()
export class PlacementRepository {
  constructor(@InjectRepository(InfraEntity) private readonly infras: Repository<InfraEntity>) {}

  /** The infra of the plan and environment with the most free room; null if all are full. */
  async chooseInfra(planId: number, environmentId: number): Promise<number | null> {
    const [row] = await this.infras.query<{ infra_id: number | null }[]>(
      `SELECT ${placementChoiceSql('$1::int', '$2::int')} AS infra_id`,
      [planId, environmentId],
    );
    return row.infra_id === null ? null : Number(row.infra_id);
  }

  /**
   * The slots taken on the infra (zero for an empty or unknown one): the databases on it
   * and those moving to it, the count the slot claim compares with its capacity.
   */
  async countPlaced(infraId: number): Promise<number> {
    const [row] = await this.infras.query<{ count: string }[]>(
      `SELECT ${placedOn('$1::int')} AS count`,
      [infraId],
    );
    return Number(row.count);
  }
}
