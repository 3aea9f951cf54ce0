import { InfraEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';

export const NO_CAPACITY_MESSAGE =
  'No engine server of this plan and environment has room for another database.';

/**
 * Where a new database goes, as a scalar subquery (the create checks run it with the other
 * checks, in one statement): among the infras of the plan and environment, the one with
 * the most free capacity (capacity minus databases placed on it); NULL if none has room.
 * One count per candidate infra (an index-only scan of database_infra_id), not a join and
 * GROUP BY over every database. This only chooses: see roomOnInfraSql.
 */
export function placementChoiceSql(plan: string, environment: string): string {
  return `(SELECT infra.id
     FROM infra
     CROSS JOIN LATERAL (SELECT COUNT(*) AS n FROM database WHERE database.infra_id = infra.id) placed
    WHERE infra.plan_id = ${plan} AND infra.environment_id = ${environment}
      AND infra.capacity - placed.n > 0
    ORDER BY infra.capacity - placed.n DESC, infra.id ASC
    LIMIT 1)`;
}

/**
 * True while the infra has room for one more database: the condition of the insert that
 * takes the slot, under the infra's store lock (see DatabasesService.create), so that two
 * creates cannot share the last slot.
 */
export function roomOnInfraSql(infra: string): string {
  return `(SELECT capacity FROM infra WHERE id = ${infra}) > (SELECT COUNT(*) FROM database WHERE infra_id = ${infra})`;
}

/** The placed count of an infra, for its detail (placement itself is the SQL above). */
@Injectable()
export class PlacementService {
  constructor(@InjectRepository(InfraEntity) private readonly infras: Repository<InfraEntity>) {}

  /** Databases placed on each infra, for the infra detail. */
  async placed(infraId: number): Promise<number> {
    const row = await this.infras
      .createQueryBuilder('infra')
      .select('COUNT(database.id)', 'count')
      .leftJoin('database', 'database', 'database.infra_id = infra.id')
      .where('infra.id = :infraId', { infraId })
      .getRawOne<{ count: string }>();
    return Number(row?.count ?? 0);
  }
}
