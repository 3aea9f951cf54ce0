import { NoCapacityError } from '@dbaas/core';
import { InfraEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';

/**
 * Picks the infra for a new database: among the infras of the plan and environment, the
 * one with the most free capacity (capacity minus databases placed on it).
 */
@Injectable()
export class PlacementService {
  constructor(@InjectRepository(InfraEntity) private readonly infras: Repository<InfraEntity>) {}

  async place(planId: number, environmentId: number): Promise<number> {
    // One count per candidate infra (an index-only scan of database_infra_id), not a join
    // and GROUP BY over every database.
    const rows: { id: number; free: string | number }[] = await this.infras.query(
      `SELECT infra.id, infra.capacity - placed.n AS free
         FROM infra
         CROSS JOIN LATERAL (SELECT COUNT(*) AS n FROM database WHERE database.infra_id = infra.id) placed
        WHERE infra.plan_id = $1 AND infra.environment_id = $2
          AND infra.capacity - placed.n > 0
        ORDER BY free DESC, infra.id ASC
        LIMIT 1`,
      [planId, environmentId],
    );
    const row = rows[0];
    if (!row) {
      throw new NoCapacityError(
        'No engine server of this plan and environment has room for another database.',
      );
    }
    return Number(row.id);
  }

  /**
   * Fails with NoCapacityError when the infra is full. Run it with the insert that takes
   * the slot, under the infra's store lock (see DatabasesService.create): `place` alone
   * cannot stop two creates from sharing the last slot.
   */
  async assertRoom(infraId: number, manager: EntityManager): Promise<void> {
    const [row] = await manager.query<{ capacity: number; placed: string | number }[]>(
      'SELECT capacity, (SELECT COUNT(*) FROM database WHERE infra_id = $1) AS placed FROM infra WHERE id = $1',
      [infraId],
    );
    if (!row || Number(row.placed) >= Number(row.capacity)) {
      throw new NoCapacityError(
        'No engine server of this plan and environment has room for another database.',
      );
    }
  }

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
