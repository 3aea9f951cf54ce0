import { APP_CONFIG, AppConfig } from '@dbaas/core';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { KeyedMutex, Semaphore } from './keyed-mutex';

/** A database is locked by its identity, known before its row exists: environment and name. */
export function databaseLockKey(environmentId: number, name: string): string {
  return `database:${environmentId}:${name}`;
}

/** A signed 64-bit PostgreSQL advisory lock id for a key. */
function advisoryId(key: string): string {
  return createHash('sha256').update(key).digest().readBigInt64BE(0).toString();
}

/** Engine operations holding a store connection for their lock, at most. */
const MAX_LOCKED_OPERATIONS = 8;

/**
 * Serializes the work on one database, within this process (a mutex) and across API
 * processes sharing a PostgreSQL store (a session-level advisory lock, held on its own
 * connection for the length of the operation). If a process dies, PostgreSQL releases
 * its locks with its connections: a lock that can be taken means nobody is working on it,
 * which is what the reconciler relies on.
 *
 * The embedded store lives in one process only, so the mutex is all it needs.
 */
@Injectable()
export class DatabaseLocks {
  private readonly mutex = new KeyedMutex();
  private readonly slots = new Semaphore(MAX_LOCKED_OPERATIONS);
  private readonly shared: boolean;

  constructor(
    @InjectDataSource() private readonly store: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.shared = Boolean(config.databaseUrl);
  }

  /** Waits for the lock, then runs the work holding it. */
  withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.mutex.run(key, () =>
      this.slots.run(async () => {
        if (!this.shared) return work();
        const runner = await this.connect();
        try {
          await runner.query('SELECT pg_advisory_lock($1)', [advisoryId(key)]);
          try {
            return await work();
          } finally {
            await this.unlock(runner, key);
          }
        } finally {
          await runner.release();
        }
      }),
    );
  }

  /**
   * A short step on the store alone (no engine call), serialized on `key` here and across
   * processes: one transaction holding a transaction-level advisory lock, on one
   * connection, released by its COMMIT. It takes no operation slot, so it may run inside
   * withLock (always in that order: an operation's lock, then this one, never the reverse).
   * The embedded store has one process and one connection: the mutex alone, no transaction.
   */
  withStoreLock<T>(key: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.mutex.run(`store:${key}`, () => {
      if (!this.shared) return work(this.store.manager);
      return this.store.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock($1)', [advisoryId(`store:${key}`)]);
        return work(manager);
      });
    });
  }

  /** Runs the work only if nobody holds the lock, here or in another process; else `undefined`. */
  async tryWithLock<T>(key: string, work: () => Promise<T>): Promise<T | undefined> {
    if (this.mutex.isHeld(key)) return undefined;
    return this.mutex.run(key, async () => {
      if (!this.shared) return work();
      const runner = await this.connect();
      try {
        const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [advisoryId(key)]);
        if (!locked) return undefined;
        try {
          return await work();
        } finally {
          await this.unlock(runner, key);
        }
      } finally {
        await runner.release();
      }
    });
  }

  /**
   * Releases the lock; if that fails, the connection is destroyed rather than returned to
   * the pool still holding it (PostgreSQL frees a dead session's locks).
   */
  private async unlock(runner: QueryRunner, key: string): Promise<void> {
    try {
      await runner.query('SELECT pg_advisory_unlock($1)', [advisoryId(key)]);
    } catch (error) {
      // TypeORM's PostgreSQL runner: releasing with an error makes the pool drop the client.
      await (runner as unknown as { releasePostgresConnection?(err: unknown): Promise<void> })
        .releasePostgresConnection?.(error);
    }
  }

  private async connect(): Promise<QueryRunner> {
    const runner = this.store.createQueryRunner();
    await runner.connect();
    return runner;
  }
}
