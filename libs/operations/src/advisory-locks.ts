import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource, QueryRunner } from 'typeorm';
import { KeyedMutex, Semaphore } from './keyed-mutex';
import { HeldLock, LockStrategy } from './lock-strategy';

/** A signed 64-bit PostgreSQL advisory lock id for a key. */
export function advisoryLockId(key: string): string {
  return createHash('sha256').update(key).digest().readBigInt64BE(0).toString();
}

/** Operations (`acquire`) holding a store connection for their lock, at most. */
export const MAX_LOCKED_OPERATIONS = 8;

/**
 * Locks taken with `tryAcquire` (background jobs, the reconciler and drift repair on each
 * database, the backup recovery) holding a store connection, at most; past it `tryAcquire`
 * gives up. When the five jobs' rounds overlap, they need seven: the reconciler's job lock
 * and its current database's (or backup's), the size-limit check's job lock and its
 * current database's, and the job locks of the purge, the scheduled backups and the backup
 * expiry (their own work uses `acquire`). One more is left for a job added later.
 */
export const MAX_TRIED_LOCKS = 8;

/** The pause between two tries of a lock another process holds: doubles up to the last. */
const FIRST_PAUSE_MS = 20;
const LAST_PAUSE_MS = 1000;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * LockStrategy on PostgreSQL advisory locks: a session-level advisory lock, held on its own
 * store connection for the length of the operation. If a process dies, PostgreSQL releases
 * its locks with its connections: a lock that can be taken means nobody is working on it,
 * which is what the reconciler relies on.
 *
 * The store's pool (20 connections) is never used up by locks: within this process,
 * holders of one key queue on a mutex first (waiting on it holds no connection); a lock is
 * only ever tried (`pg_try_advisory_lock`), never waited for inside PostgreSQL, so a
 * connection is held only while a lock is held or being tried; and those connections are
 * counted: at most MAX_LOCKED_OPERATIONS for `acquire`, MAX_TRIED_LOCKS for `tryAcquire`
 * (16 in all). `acquire` finding the key taken by another process gives its connection
 * and place back and tries again after a pause (FIRST_PAUSE_MS doubling to LAST_PAUSE_MS):
 * operations waiting on another process never hold up the others of this one.
 */
@Injectable()
export class AdvisoryLocks extends LockStrategy {
  private readonly mutex = new KeyedMutex();
  private readonly operationSlots = new Semaphore(MAX_LOCKED_OPERATIONS);
  private readonly triedSlots = new Semaphore(MAX_TRIED_LOCKS);

  constructor(@InjectDataSource() private readonly store: DataSource) {
    super();
  }

  async acquire(key: string): Promise<HeldLock> {
    const leaveMutex = await this.mutex.enter(key);
    try {
      for (let wait = FIRST_PAUSE_MS; ; wait = Math.min(2 * wait, LAST_PAUSE_MS)) {
        const lock = await this.tryLock(key, await this.operationSlots.enter(), leaveMutex);
        if (lock) return lock;
        await pause(wait);
      }
    } catch (error) {
      leaveMutex();
      throw error;
    }
  }

  async tryAcquire(key: string): Promise<HeldLock | null> {
    if (this.mutex.isHeld(key)) return null;
    // Both taken before the first await, so no other call can take them in between: the
    // place (tryEnter never waits) and the key (free just above, held from enter() on).
    const leaveSlot = this.triedSlots.tryEnter();
    if (!leaveSlot) return null;
    const leaveMutex = await this.mutex.enter(key);
    try {
      const lock = await this.tryLock(key, leaveSlot, leaveMutex);
      if (!lock) leaveMutex();
      return lock;
    } catch (error) {
      leaveMutex();
      throw error;
    }
  }

  /**
   * One try of the lock, on a connection of its own, in the place `leaveSlot` gives back:
   * the lock (its release leaves the place, then the mutex), or null when another session
   * holds it (the place is given back at once).
   */
  private async tryLock(
    key: string,
    leaveSlot: () => void,
    leaveMutex: () => void,
  ): Promise<HeldLock | null> {
    let runner: QueryRunner | undefined;
    try {
      runner = await this.connect();
      const [{ locked }] = (await runner.query(
        'SELECT pg_try_advisory_lock($1::bigint) AS locked',
        [advisoryLockId(key)],
      )) as { locked: boolean }[];
      if (locked) {
        return this.held(runner, key, () => {
          leaveSlot();
          leaveMutex();
        });
      }
      await runner.release();
    } catch (error) {
      if (runner) await this.unlock(runner, key);
      leaveSlot();
      throw error;
    }
    leaveSlot();
    return null;
  }

  private held(runner: QueryRunner, key: string, leave: () => void): HeldLock {
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await this.unlock(runner, key);
        } finally {
          leave();
        }
      },
    };
  }

  /**
   * Releases the lock and the connection; if the unlock fails, the connection is destroyed
   * rather than returned to the pool still holding it (PostgreSQL frees a dead session's
   * locks).
   */
  private async unlock(runner: QueryRunner, key: string): Promise<void> {
    try {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [advisoryLockId(key)]);
    } catch (error) {
      // TypeORM's PostgreSQL runner: releasing with an error makes the pool drop the client.
      await (
        runner as unknown as { releasePostgresConnection?(err: unknown): Promise<void> }
      ).releasePostgresConnection?.(error);
      return;
    }
    await runner.release();
  }

  private async connect(): Promise<QueryRunner> {
    const runner = this.store.createQueryRunner();
    await runner.connect();
    return runner;
  }
}
