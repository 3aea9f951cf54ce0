import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Every table of the app, children first. */
const TABLES = [
  'idempotency_key',
  'backup',
  'task',
  'credential',
  'database',
  'infra',
  'plan_environment',
  'plan',
  'engine',
  'engine_type',
  'environment',
  'project',
  'team_user',
  'team',
  '"user"',
];

/** The one statement that spans every lib's tables: emptying the store for a reset. */
@Injectable()
export class StoreResetRepository {
  constructor(@InjectDataSource() private readonly store: DataSource) {}

  /**
   * Empties every table (ids start at 1 again) and runs `refill` in the same transaction:
   * if it fails, the store is left as it was.
   */
  emptyAndRefill<T>(refill: (transaction: EntityManager) => Promise<T>): Promise<T> {
    return this.store.transaction(async (transaction) => {
      await transaction.query(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`);
      return refill(transaction);
    });
  }
}
