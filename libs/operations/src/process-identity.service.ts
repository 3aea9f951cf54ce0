import { APP_CONFIG, AppConfig } from '@dbaas/core';
import { FactoryProvider, Logger, OnApplicationShutdown } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomInt } from 'node:crypto';
import { DataSource, QueryRunner } from 'typeorm';

/** First key of the two-key advisory locks that are process leases ('dbas'). */
const LEASE_NAMESPACE = 0x64626173;

/**
 * Who this API process is, for the work it leaves in the store (tasks, Idempotency-Key
 * claims carry its id as `owner`), and a way to tell in SQL whether an owner is gone.
 *
 * On PostgreSQL the process holds a session-level advisory lock (LEASE_NAMESPACE, id) on
 * its own connection for its whole life; PostgreSQL drops it with the session when the
 * process dies, so "no such lock in pg_locks" means "that process has ended". The
 * embedded store is opened by one process only: any owner but this process is gone.
 */
export class ProcessIdentity implements OnApplicationShutdown {
  private readonly logger = new Logger('ProcessIdentity');

  /** `shared`: a PostgreSQL store, which other processes may share. */
  constructor(
    readonly id: number,
    private readonly shared: boolean,
    private readonly lease?: QueryRunner,
  ) {}

  /** A new id, with its lease taken on PostgreSQL (before anything records it). */
  static async start(store: DataSource, config: AppConfig): Promise<ProcessIdentity> {
    if (!config.databaseUrl) return new ProcessIdentity(newId(), false);
    const lease = store.createQueryRunner();
    await lease.connect();
    // Ids are random: should another live process hold this one, take another.
    for (;;) {
      const id = newId();
      const [{ taken }] = (await lease.query(
        'SELECT pg_try_advisory_lock($1::int, $2::int) AS taken',
        [LEASE_NAMESPACE, id],
      )) as { taken: boolean }[];
      if (taken) return new ProcessIdentity(id, true, lease);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Ending the session frees the lock; an explicit unlock first, in case the pool keeps it.
    await this.lease
      ?.query('SELECT pg_advisory_unlock($1::int, $2::int)', [LEASE_NAMESPACE, this.id])
      .catch((error: Error) => this.logger.warn(`Lease not released: ${error.message}`));
    await this.lease?.release().catch(() => undefined);
  }

  /**
   * SQL that is true when the process whose id is in `column` is known to have ended
   * (false when the column is null: rows from before owners were recorded).
   */
  ownerGoneSql(column: string): string {
    if (!this.shared) return `(${column} IS NOT NULL AND ${column} <> ${this.id})`;
    return `(${column} IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM pg_locks lease
       WHERE lease.locktype = 'advisory' AND lease.granted AND lease.objsubid = 2
         AND lease.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND lease.classid = ${LEASE_NAMESPACE} AND lease.objid = ${column}))`;
  }
}

/** A positive int4: the second key of the lease, and the `owner` column. */
function newId(): number {
  return randomInt(1, 2 ** 31 - 1);
}

/** ProcessIdentity for Nest: ready (its lease held) before any provider can use it. */
export const PROCESS_IDENTITY_PROVIDER: FactoryProvider<Promise<ProcessIdentity>> = {
  provide: ProcessIdentity,
  inject: [getDataSourceToken(), APP_CONFIG],
  useFactory: (store: DataSource, config: AppConfig) => ProcessIdentity.start(store, config),
};
