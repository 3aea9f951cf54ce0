import { FactoryProvider, Logger, OnApplicationShutdown } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomInt } from 'node:crypto';
import { DataSource, QueryRunner } from 'typeorm';

/** First key of the two-key advisory locks that are process leases ('dbas'). */
const LEASE_NAMESPACE = 0x64626173;
/** How often the lease is checked (and taken again if its session ended). */
const LEASE_CHECK_MS = 5_000;

/**
 * Who this API process is, for the work it leaves in the store (tasks, Idempotency-Key
 * claims carry its id as `owner`), and a way to tell in SQL whether an owner is gone.
 *
 * On PostgreSQL the process holds a session-level advisory lock (LEASE_NAMESPACE, id) on
 * its own connection for its whole life; PostgreSQL drops it with the session when the
 * process dies, so "no such lock in pg_locks" means "that process has ended". The
 * embedded store is a PostgreSQL server too, so this holds for both stores.
 */
export class ProcessIdentity implements OnApplicationShutdown {
  private readonly logger = new Logger('ProcessIdentity');

  private readonly leaseCheck: NodeJS.Timeout;
  private checking = false;

  constructor(
    readonly id: number,
    private lease: QueryRunner,
    private readonly store: DataSource,
  ) {
    this.leaseCheck = setInterval(() => void this.keepLease(), LEASE_CHECK_MS);
    this.leaseCheck.unref();
  }

  /** A new id, with its lease taken (before anything records it). */
  static async start(store: DataSource): Promise<ProcessIdentity> {
    const lease = store.createQueryRunner();
    await lease.connect();
    // Ids are random: should another live process hold this one, take another.
    for (;;) {
      const id = newId();
      const [{ taken }] = (await lease.query(
        'SELECT pg_try_advisory_lock($1::int, $2::int) AS taken',
        [LEASE_NAMESPACE, id],
      )) as { taken: boolean }[];
      if (taken) return new ProcessIdentity(id, lease, store);
    }
  }

  /**
   * The lease lives as long as its session: a store restart, an idle timeout or a cut
   * connection ends it, and then this process's running work would look abandoned to every
   * process. So it is checked every few seconds and taken again, under the same id, on a new
   * connection.
   */
  private async keepLease(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const held = await this.lease
        .query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
              AND classid = $1 AND objid = $2 AND objsubid = 2`,
          [LEASE_NAMESPACE, this.id],
        )
        .then((rows: unknown[]) => rows.length === 1)
        .catch(() => false);
      if (held) return;
      await this.lease.release().catch(() => undefined);
      const lease = this.store.createQueryRunner();
      await lease.connect();
      const [{ taken }] = (await lease.query(
        'SELECT pg_try_advisory_lock($1::int, $2::int) AS taken',
        [LEASE_NAMESPACE, this.id],
      )) as { taken: boolean }[];
      this.lease = lease;
      if (taken)
        this.logger.warn(`Process lease ${this.id} was lost (store session ended): taken again`);
      else this.logger.warn(`Process lease ${this.id} is still held by its old session: retrying`);
    } catch (error) {
      this.logger.warn(`Process lease ${this.id} not taken again yet: ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.leaseCheck);
    // Ending the session frees the lock; an explicit unlock first, in case the pool keeps it.
    await this.lease
      .query('SELECT pg_advisory_unlock($1::int, $2::int)', [LEASE_NAMESPACE, this.id])
      .catch((error: Error) => this.logger.warn(`Lease not released: ${error.message}`));
    await this.lease.release().catch(() => undefined);
  }

  /**
   * SQL that is true when the process whose id is in `column` is known to have ended
   * (false when the column is null: rows from before owners were recorded).
   */
  ownerGoneSql(column: string): string {
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
  inject: [getDataSourceToken()],
  useFactory: (store: DataSource) => ProcessIdentity.start(store),
};
