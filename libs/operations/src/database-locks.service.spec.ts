import { DataSource } from 'typeorm';
import { startStore, TestStore } from '../../../test/harness/store.harness';
import { DatabaseLocks } from './database-locks.service';

/**
 * Medium test: the locks on a real PostgreSQL store. Two DataSources on it are two API
 * processes (each its own pool and sessions), so the advisory locks are what serializes them.
 */
describe('DatabaseLocks on a real PostgreSQL store', () => {
  let store: TestStore;
  let first: DatabaseLocks;
  let second: DatabaseLocks;
  let secondSource: DataSource;

  beforeAll(async () => {
    store = await startStore();
    secondSource = await store.open();
    first = new DatabaseLocks(store.store);
    second = new DatabaseLocks(secondSource);
  });
  afterAll(() => store?.destroy());

  /** A promise the test resolves when it wants the work holding a lock to end. */
  function gate() {
    let open!: () => void;
    const closed = new Promise<void>((resolve) => (open = resolve));
    return { closed, open };
  }

  /** Sessions waiting on an advisory lock right now (another process's holder blocks them). */
  async function waitingSessions(): Promise<number> {
    const [{ n }] = (await store.store.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
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
    const one = first.withLock('database:1:orders', async () => {
      log.push('first starts');
      await held.closed;
      log.push('first ends');
    });
    await until(async () => log.includes('first starts'));
    const two = second.withLock('database:1:orders', async () => void log.push('second runs'));

    await until(async () => (await waitingSessions()) === 1);
    expect(log).toEqual(['first starts']);
    held.open();
    await Promise.all([one, two]);

    expect(log).toEqual(['first starts', 'first ends', 'second runs']);
  });

  it('tryWithLock: skips a key another process holds, runs once it is free, and other keys at once', async () => {
    const held = gate();
    let started = false;
    const one = first.withLock('database:1:orders', async () => {
      started = true;
      await held.closed;
    });
    await until(async () => started);

    await expect(second.tryWithLock('database:1:orders', async () => 'ran')).resolves.toBe(
      undefined,
    );
    await expect(second.tryWithLock('database:1:invoices', async () => 'ran')).resolves.toBe('ran');
    held.open();
    await one;
    await expect(second.tryWithLock('database:1:orders', async () => 'ran')).resolves.toBe('ran');
  });

  it('releases the lock when the work fails', async () => {
    await expect(
      first.withLock('database:1:orders', async () => {
        throw new Error('engine refused');
      }),
    ).rejects.toThrow('engine refused');

    await expect(second.tryWithLock('database:1:orders', async () => 'ran')).resolves.toBe('ran');
  });

  it('frees the lock of a process whose store session died (what the reconciler relies on)', async () => {
    const held = gate();
    let started = false;
    const one = first
      .withLock('database:1:orders', async () => {
        started = true;
        await held.closed;
      })
      .catch((error: Error) => error);
    await until(async () => started);
    expect(await second.tryWithLock('database:1:orders', async () => 'ran')).toBeUndefined();

    // The holder's session ends as it would when its process is killed.
    await secondSource.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted`,
    );

    await expect(second.tryWithLock('database:1:orders', async () => 'ran')).resolves.toBe('ran');
    held.open();
    await one;
  });

  it('hold/tryTake: says whether the lock was taken, and runs the statement either way', async () => {
    const insert = {
      sql: `SELECT CASE WHEN acquired.taken THEN 'running' ELSE 'waiting' END AS status, $1::text AS name FROM acquired`,
      params: ['orders'],
    };
    const held = gate();
    let firstAnswer: unknown;
    const one = first.hold('database:1:orders', async (lock) => {
      firstAnswer = await lock.tryTake(insert);
      await held.closed;
      await lock.release();
    });
    await until(async () => firstAnswer !== undefined);

    const secondAnswer = await second.hold('database:1:orders', (lock) => lock.tryTake(insert));

    expect(firstAnswer).toEqual({ taken: true, rows: [{ status: 'running', name: 'orders' }] });
    expect(secondAnswer).toEqual({ taken: false, rows: [{ status: 'waiting', name: 'orders' }] });
    held.open();
    await one;
  });

  it('hold: releases a lock the caller left held, when its work ends or throws', async () => {
    await first.hold('database:1:orders', async (lock) => {
      await lock.take();
      // no release: the work ended with the lock held
    });
    await expect(second.tryWithLock('database:1:orders', async () => 'ran')).resolves.toBe('ran');

    await expect(
      first.hold('database:1:orders', async (lock) => {
        await lock.tryTake({ sql: 'SELECT 1 AS one', params: [] });
        throw new Error('engine refused');
      }),
    ).rejects.toThrow('engine refused');
    await expect(second.tryWithLock('database:1:orders', async () => 'ran')).resolves.toBe('ran');
  });

  it('in one process, runs the operations on one key one at a time and says it waited', async () => {
    const log: string[] = [];
    const held = gate();
    const waited: string[] = [];
    const one = first.withLock('database:1:orders', async () => {
      log.push('one starts');
      await held.closed;
      log.push('one ends');
    });
    const two = first.hold(
      'database:1:orders',
      async (lock) => {
        await lock.take();
        log.push('two runs');
        await lock.release();
      },
      () => waited.push('two'),
    );
    await until(async () => log.includes('one starts'));
    expect(waited).toEqual(['two']);
    held.open();
    await Promise.all([one, two]);

    expect(log).toEqual(['one starts', 'one ends', 'two runs']);
  });

  it('withStoreLock: serializes a store step across processes, in one transaction', async () => {
    await store.store.query('CREATE TABLE IF NOT EXISTS lock_probe (n int)');
    await store.store.query('TRUNCATE lock_probe');
    const log: string[] = [];
    const held = gate();
    const one = first.withStoreLock('infra:3', async (manager) => {
      await manager.query('INSERT INTO lock_probe VALUES (1)');
      log.push('first wrote');
      await held.closed;
      log.push('first commits');
    });
    await until(async () => log.includes('first wrote'));
    const two = second.withStoreLock('infra:3', async (manager) => {
      // Under the lock, the first step's committed write is visible.
      const rows = (await manager.query('SELECT count(*)::int AS n FROM lock_probe')) as {
        n: number;
      }[];
      log.push(`second sees ${rows[0].n}`);
    });
    await until(async () => (await waitingSessions()) === 1);
    held.open();
    await Promise.all([one, two]);

    expect(log).toEqual(['first wrote', 'first commits', 'second sees 1']);
  });

  it('withStoreLock inside withLock of the same key does not wait on itself', async () => {
    const result = await first.withLock('database:1:orders', () =>
      first.withStoreLock('database:1:orders', async () => 'done'),
    );

    expect(result).toBe('done');
  });
});
