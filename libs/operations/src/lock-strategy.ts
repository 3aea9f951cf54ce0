/** A lock held: release it once, when the work under it is done. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * How operations are kept apart: one holder per key at a time, in this process and in
 * every other process sharing the store. `acquire` waits; `tryAcquire` gives up at once
 * (null) when someone holds the key. Nest injects it by this class (see OperationsModule:
 * AdvisoryLocks, PostgreSQL advisory locks, is the one implementation).
 */
export abstract class LockStrategy {
  /** Waits until the lock of `key` is held. */
  abstract acquire(key: string): Promise<HeldLock>;
  /** The lock of `key` if nobody holds it, here or in another process; else null. */
  abstract tryAcquire(key: string): Promise<HeldLock | null>;
}

/** A database is locked by its identity, known before its row exists: environment and name. */
export function databaseLockKey(environmentId: number, name: string): string {
  return `database:${environmentId}:${name}`;
}

/** Runs `work` holding `lock`, and releases it whatever happens. */
export async function holding<T>(lock: HeldLock, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
