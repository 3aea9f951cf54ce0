import { DataSource } from 'typeorm';
import { startStore, TestStore, THIS_DATABASE } from '../../../test/harness/store.harness';
import {
  AdvisoryLocks,
  advisoryLockId,
  MAX_LOCKED_OPERATIONS,
  MAX_TRIED_LOCKS,
} from './advisory-locks';
import { holding, LockStrategy } from './lock-strategy';

/**
 * Medium test: the locks on a real PostgreSQL store. Two DataSources on it are two API
 * processes (each its own pool and sessions), so the advisory locks are what serializes them.
 */
/** Waits for the lock, runs the work holding it, releases it. */
async function withLock<T>(locks: LockStrategy, key: string, work: () => Promise<T>): Promise<T> {
  return holding(await locks.acquire(key), work);
}

/** Runs the work if the lock is free, else undefined. */
async function tryWithLock<T>(
  locks: LockStrategy,
  key: string,
  work: () => Promise<T>,
): Promise<T | undefined> {
  const lock = await locks.tryAcquire(key);
  return lock ? holding(lock, work) : undefined;
}

describe('AdvisoryLocks on a real PostgreSQL store', () => {
  let store: TestStore;
  let first: AdvisoryLocks;
  let second: AdvisoryLocks;
  let secondSource: DataSource;

  beforeAll(async () => {
    store = await startStore();
    secondSource = await store.open();
    first = new AdvisoryLocks(store.store);
    second = new AdvisoryLocks(secondSource);
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);

  /** A promise the test resolves when it wants the work holding a lock to end. */
  function gate() {
    let open!: () => void;
    const closed = new Promise<void>((resolve) => (open = resolve));
    return { closed, open };
  }

  /** Store sessions holding an advisory lock now. */
  async function lockingSessions(): Promise<number> {
    const [{ n }] = (await store.store.query(
      `SELECT count(DISTINCT pid)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND ${THIS_DATABASE} AND granted`,
    )) as { n: number }[];
    return n;
  }

  async function until(condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('makes a second process wait for the lock of the same key until the first is done', async () => {
    const log: string[] = [];
    const held = gate();
    const one = withLock(first, 'database:1:orders', async () => {
      log.push('first starts');
      await held.closed;
      log.push('first ends');
    });
    await until(async () => log.includes('first starts'));
    const tries = jest.spyOn(secondSource, 'createQueryRunner');
    const two = withLock(second, 'database:1:orders', async () => void log.push('second runs'));

    // The second has found the key taken, and tried again (each try on a connection of its own).
    await until(async () => tries.mock.calls.length >= 2);
    tries.mockRestore();
    expect(log).toEqual(['first starts']);
    held.open();
    await Promise.all([one, two]);

    expect(log).toEqual(['first starts', 'first ends', 'second runs']);
  });

  it('tryWithLock: skips a key another process holds, runs once it is free, and other keys at once', async () => {
    const held = gate();
    let started = false;
    const one = withLock(first, 'database:1:orders', async () => {
      started = true;
      await held.closed;
    });
    await until(async () => started);

    await expect(tryWithLock(second, 'database:1:orders', async () => 'ran')).resolves.toBe(
      undefined,
    );
    await expect(tryWithLock(second, 'database:1:invoices', async () => 'ran')).resolves.toBe(
      'ran',
    );
    held.open();
    await one;
    await expect(tryWithLock(second, 'database:1:orders', async () => 'ran')).resolves.toBe('ran');
  });

  it('releases the lock when the work fails', async () => {
    await expect(
      withLock(first, 'database:1:orders', async () => {
        throw new Error('engine refused');
      }),
    ).rejects.toThrow('engine refused');

    await expect(tryWithLock(second, 'database:1:orders', async () => 'ran')).resolves.toBe('ran');
  });

  it('frees the lock of a process whose store session died (what the reconciler relies on)', async () => {
    const held = gate();
    let started = false;
    const one = withLock(first, 'database:1:orders', async () => {
      started = true;
      await held.closed;
    }).catch((error: Error) => error);
    await until(async () => started);
    expect(await tryWithLock(second, 'database:1:orders', async () => 'ran')).toBeUndefined();

    // The holder's session ends as it would when its process is killed.
    await secondSource.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND ${THIS_DATABASE} AND granted`,
    );
    // pg_terminate_backend only signals: the session ends (and its locks go) a moment later.
    await until(async () => {
      const [{ n }] = (await secondSource.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND ${THIS_DATABASE} AND granted`,
      )) as { n: number }[];
      return n === 0;
    });

    await expect(tryWithLock(second, 'database:1:orders', async () => 'ran')).resolves.toBe('ran');
    held.open();
    await one;
  });

  it('in one process, a second holder of a key waits, and tryAcquire gives up', async () => {
    const held = await first.acquire('database:2:ledger');
    let acquired = false;
    const next = first.acquire('database:2:ledger').then((lock) => ((acquired = true), lock));
    expect(await first.tryAcquire('database:2:ledger')).toBeNull();
    expect(acquired).toBe(false);
    await held.release();
    const lock = await next;
    await lock.release();
    await lock.release(); // a second release is a no-op
    await expect(tryWithLock(first, 'database:2:ledger', async () => 'ran')).resolves.toBe('ran');
  });

  it('gives the connection back: no advisory lock is left once everything is released', async () => {
    await withLock(first, 'database:2:ledger', async () => undefined);
    await tryWithLock(second, 'database:2:ledger', async () => undefined);
    const [{ n }] = (await store.store.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND ${THIS_DATABASE}`,
    )) as { n: number }[];
    expect(n).toBe(0);
  });

  it('a failed acquire gives back its key and its place: later ones on the same key run', async () => {
    const third = await store.open();
    const locks = new AdvisoryLocks(third);
    await third.destroy();
    // More failures than there are places: none may keep one.
    for (let i = 0; i <= MAX_LOCKED_OPERATIONS; i++)
      await expect(locks.acquire('database:3:payroll')).rejects.toBeInstanceOf(Error);

    await third.initialize();
    await expect(withLock(locks, 'database:3:payroll', async () => 'ran')).resolves.toBe('ran');
    await third.destroy();
  });

  it('counts the locks tryAcquire holds apart, at most MAX_TRIED_LOCKS: the pool always keeps room', async () => {
    const acquired = [];
    for (let i = 0; i < MAX_LOCKED_OPERATIONS; i++)
      acquired.push(await first.acquire(`database:4:db${i}`));
    const tried = [];
    for (let i = 0; i < 12; i++) {
      const lock = await first.tryAcquire(`job:${i}`);
      if (lock) tried.push(lock);
    }

    // Past its places, tryAcquire gives up as if the key were taken (a job skips a round).
    expect(tried).toHaveLength(MAX_TRIED_LOCKS);
    expect(await lockingSessions()).toBe(MAX_LOCKED_OPERATIONS + MAX_TRIED_LOCKS);
    // The pool (max 20) still has room for the statements of the operations.
    await expect(store.store.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);

    for (const lock of [...acquired, ...tried]) await lock.release();
    const again = await first.tryAcquire('job:0');
    expect(again).not.toBeNull();
    await again?.release();
  });

  it('has places for the background jobs running at once: their job locks, and the databases of the reconciler and size limit', async () => {
    // What one process holds when the five JobSchedulers' rounds overlap (they all start
    // within seconds of boot): five job locks, and the database the reconciler and the
    // size-limit check are on (the other jobs' own work uses acquire).
    const keys = [
      'job:reconciler',
      'database:6:orders',
      'job:purge',
      'job:size-limit',
      'database:6:stock',
      'job:scheduled-backups',
      'job:backup-expiry',
    ];
    const locks = [];
    for (const key of keys) locks.push(await first.tryAcquire(key));
    expect(locks.map((lock) => lock !== null)).toEqual(keys.map(() => true));
    for (const lock of locks) await lock?.release();
  });

  it('tryAcquire never waits for a place: of more calls at once than places, the extra ones give up', async () => {
    const attempts = Array.from({ length: MAX_TRIED_LOCKS + 2 }, (_, i) =>
      first.tryAcquire(`job:race${i}`),
    );
    // Wait for the places to be taken, then give them back: a call that waited for a place
    // (instead of giving up) would then get one.
    const taken: { release(): Promise<void> }[] = [];
    await new Promise<void>((resolve) => {
      for (const attempt of attempts) {
        void attempt.then((lock) => {
          if (lock) taken.push(lock);
          if (taken.length === MAX_TRIED_LOCKS) resolve();
        });
      }
    });
    for (const lock of [...taken]) await lock.release();
    const results = await Promise.all(attempts);
    expect(results.filter((lock) => lock === null)).toHaveLength(2);
    for (const lock of results) await lock?.release();
  });

  it('an operation waiting on a lock another process holds keeps no place: 9 such waiters, and a free key is taken at once', async () => {
    // Another process (a session of its own) holds nine keys.
    const other = secondSource.createQueryRunner();
    await other.connect();
    const taken = Array.from({ length: MAX_LOCKED_OPERATIONS + 1 }, (_, i) => `database:5:db${i}`);
    for (const key of taken)
      await other.query('SELECT pg_advisory_lock($1::bigint)', [advisoryLockId(key)]);
    const waiting = taken.map((key) => first.acquire(key));

    let ran = false;
    const free = withLock(first, 'database:5:free', async () => void (ran = true));
    await until(async () => ran);
    await free;

    // Once the other process lets go, every waiter gets its lock.
    await other.query('SELECT pg_advisory_unlock_all()');
    await other.release();
    // (Each gives its place back once it has it: the ninth waits for one of the eight.)
    await Promise.all(waiting.map(async (lock) => (await lock).release()));
  });
});
