import { Injectable } from '@nestjs/common';
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

/** A statement with its parameters ($1, $2, ...). */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * A lock being taken, held and released (DatabaseLocks.hold). Each step can carry one
 * statement of the caller's in the same round trip.
 */
export interface LockHandle {
  /**
   * Takes the lock if it is free, and runs `statement` in the same statement: it may read
   * the one-row relation `acquired`, whose boolean column `taken` says whether the lock
   * was taken. Returns that and the statement's rows.
   */
  tryTake(statement: Statement): Promise<{ taken: boolean; rows: Record<string, unknown>[] }>;
  /** Waits until the lock is taken. */
  take(): Promise<void>;
  /**
   * Runs `statement` (if any; it needs a RETURNING clause), then releases the
   * lock, in one round trip. The statement commits just after the release: use it only
   * for writes that no later holder of the lock reads (the task's own record).
   */
  release(statement?: Statement): Promise<void>;
}

/** The lock id follows the caller's parameters: `$<n+1>`. */
function withLockParam(
  statement: Statement,
  lockId: string,
): { sql: string; params: unknown[]; lock: string } {
  return {
    sql: statement.sql,
    params: [...statement.params, lockId],
    lock: `$${statement.params.length + 1}`,
  };
}

/**
 * One statement: the lock attempt (evaluated once: a CTE with a volatile function is never
 * inlined), then the caller's statement, which may read `acquired`; one row per row of the
 * caller's statement (one with `taken` alone if it returns none). The statement's snapshot
 * is older than the lock: the caller's part must write, never read what a previous holder
 * of the lock wrote.
 */
function tryTakeSql(attempt: string, sql: string): string {
  return `WITH acquired AS (SELECT ${attempt} AS taken), result AS (${sql})
    SELECT acquired.taken AS lock_taken, result.* FROM acquired LEFT JOIN result ON true`;
}

function splitTaken(rows: Record<string, unknown>[]) {
  const taken = rows[0]?.lock_taken === true;
  return { taken, rows: rows.map(({ lock_taken: _, ...row }) => row) };
}

/** A session-level advisory lock on the operation's own store connection. */
class AdvisoryLock implements LockHandle {
  /** A lock statement was sent and no release has completed since: the lock may be held. */
  mayBeHeld = false;

  constructor(
    private readonly runner: QueryRunner,
    private readonly id: string,
  ) {}

  async tryTake(statement: Statement) {
    const { sql, params, lock } = withLockParam(statement, this.id);
    this.mayBeHeld = true; // until the answer says otherwise (a failed statement may have taken it)
    const answer = splitTaken(
      (await this.runner.query(
        tryTakeSql(`pg_try_advisory_lock(${lock}::bigint)`, sql),
        params,
      )) as Record<string, unknown>[],
    );
    this.mayBeHeld = answer.taken;
    return answer;
  }

  async take(): Promise<void> {
    this.mayBeHeld = true;
    await this.runner.query('SELECT pg_advisory_lock($1::bigint)', [this.id]);
  }

  async release(statement?: Statement): Promise<void> {
    if (statement) {
      const { sql, params, lock } = withLockParam(statement, this.id);
      // Reading `done` makes its write run before the unlock (an unread one would run after).
      await this.runner.query(
        `WITH done AS (${sql}) SELECT pg_advisory_unlock(${lock}::bigint) FROM (SELECT count(*) FROM done) AS written`,
        params,
      );
    } else {
      await this.runner.query('SELECT pg_advisory_unlock($1::bigint)', [this.id]);
    }
    this.mayBeHeld = false;
  }
}

/** Engine operations holding a store connection for their lock, at most. */
const MAX_LOCKED_OPERATIONS = 8;

/**
 * Serializes the work on one database, within this process (a mutex) and across API
 * processes sharing a PostgreSQL store (a session-level advisory lock, held on its own
 * connection for the length of the operation). If a process dies, PostgreSQL releases
 * its locks with its connections: a lock that can be taken means nobody is working on it,
 * which is what the reconciler relies on. The embedded store is a PostgreSQL server too.
 */
@Injectable()
export class DatabaseLocks {
  private readonly mutex = new KeyedMutex();
  private readonly slots = new Semaphore(MAX_LOCKED_OPERATIONS);
  constructor(@InjectDataSource() private readonly store: DataSource) {}

  /** Waits for the lock, then runs the work holding it. */
  withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.hold(key, async (lock) => {
      await lock.take();
      const result = await work();
      await lock.release();
      return result;
    });
  }

  /**
   * The lock of `key`, step by step, so that the caller can send its own statements in the
   * same round trips as taking and releasing it (see OperationRunner): one operation at a
   * time per key in this process (the mutex), at most MAX_LOCKED_OPERATIONS holding a
   * store connection. Whatever `use` does, the lock is released when it ends. `onWait` is
   * called (at most twice) when the operation has to wait here first: for another
   * operation on `key`, or for a free slot.
   */
  hold<T>(key: string, use: (lock: LockHandle) => Promise<T>, onWait?: () => void): Promise<T> {
    if (this.mutex.isHeld(key)) onWait?.();
    return this.mutex.run(key, () => {
      if (this.slots.isFull()) onWait?.();
      return this.slots.run(async () => {
        const runner = await this.connect();
        const lock = new AdvisoryLock(runner, advisoryId(key));
        try {
          return await use(lock);
        } finally {
          if (lock.mayBeHeld) await this.unlock(runner, key);
          await runner.release();
        }
      });
    });
  }

  /**
   * A short step on the store alone (no engine call), serialized on `key` here and across
   * processes: one transaction holding a transaction-level advisory lock, on one
   * connection, released by its COMMIT. It takes no operation slot, so it may run inside an
   * operation's lock (hold, withLock; always in that order: the operation's lock, then this
   * one, never the reverse).
   */
  withStoreLock<T>(key: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.mutex.run(`store:${key}`, () => {
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
      const runner = await this.connect();
      try {
        const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
          advisoryId(key),
        ])) as { locked: boolean }[];
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
      await (
        runner as unknown as { releasePostgresConnection?(err: unknown): Promise<void> }
      ).releasePostgresConnection?.(error);
    }
  }

  private async connect(): Promise<QueryRunner> {
    const runner = this.store.createQueryRunner();
    await runner.connect();
    return runner;
  }
}
