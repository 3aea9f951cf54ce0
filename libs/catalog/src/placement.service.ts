import { NoCapacityError } from '@dbaas/core';
import { InfraEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';

/**
 * Picks the infra for a new database: among the infras of the plan and environment, the
 * one with the most free capacity (capacity minus databases placed on it).
 */
@Injectable()
export class PlacementService {
  constructor(@InjectRepository(InfraEntity) private readonly infras: Repository<InfraEntity>) {}

  async place(planId: number, environmentId: number): Promise<number> {
    const row = await this.infras
      .createQueryBuilder('infra')
      .select('infra.id', 'id')
      .addSelect('infra.capacity - COUNT(database.id)', 'free')
      .leftJoin('database', 'database', 'database.infra_id = infra.id')
      .where('infra.plan_id = :planId AND infra.environment_id = :environmentId', {
        planId,
        environmentId,
      })
      .groupBy('infra.id')
      .having('infra.capacity - COUNT(database.id) > 0')
      .orderBy('free', 'DESC')
      .addOrderBy('infra.id', 'ASC')
      .limit(1)
      .getRawOne<{ id: number }>();
    if (!row) {
      throw new NoCapacityError(
        'No engine server of this plan and environment has room for another database.',
      );
    }
    return row.id;
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
