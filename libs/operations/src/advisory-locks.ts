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

/** Engine operations holding a store connection for their lock, at most. */
const MAX_LOCKED_OPERATIONS = 8;

/**
 * LockStrategy on PostgreSQL advisory locks: a session-level advisory lock, held on its own
 * store connection for the length of the operation. If a process dies, PostgreSQL releases
 * its locks with its connections: a lock that can be taken means nobody is working on it,
 * which is what the reconciler relies on. Within this process, holders of one key queue on
 * a mutex first (waiting on it holds no connection), and at most MAX_LOCKED_OPERATIONS
 * `acquire` callers hold a connection at once (one waiting on another process's lock holds
 * its connection while it waits). `tryAcquire` (background jobs, the reconciler) is not
 * counted: it never waits.
 */
@Injectable()
export class AdvisoryLocks extends LockStrategy {
  private readonly mutex = new KeyedMutex();
  private readonly slots = new Semaphore(MAX_LOCKED_OPERATIONS);

  constructor(@InjectDataSource() private readonly store: DataSource) {
    super();
  }

  async acquire(key: string): Promise<HeldLock> {
    const leaveMutex = await this.mutex.enter(key);
    try {
      const leaveSlot = await this.slots.enter();
      try {
        const runner = await this.connect();
        try {
          await runner.query('SELECT pg_advisory_lock($1::bigint)', [advisoryLockId(key)]);
        } catch (error) {
          await this.unlock(runner, key);
          throw error;
        }
        return this.held(runner, key, () => {
          leaveSlot();
          leaveMutex();
        });
      } catch (error) {
        leaveSlot();
        throw error;
      }
    } catch (error) {
      leaveMutex();
      throw error;
    }
  }

  async tryAcquire(key: string): Promise<HeldLock | null> {
    if (this.mutex.isHeld(key)) return null;
    const leaveMutex = await this.mutex.enter(key);
    try {
      const runner = await this.connect();
      let locked = false;
      try {
        [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
          advisoryLockId(key),
        ])) as { locked: boolean }[];
      } catch (error) {
        await this.unlock(runner, key);
        throw error;
      }
      if (!locked) {
        await runner.release();
        leaveMutex();
        return null;
      }
      return this.held(runner, key, leaveMutex);
    } catch (error) {
      leaveMutex();
      throw error;
    }
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
