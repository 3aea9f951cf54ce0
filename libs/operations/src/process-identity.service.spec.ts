import { Logger } from '@nestjs/common';
import { startStore, TestStore, THIS_DATABASE } from '../../../test/harness/store.harness';
import { ProcessIdentity } from './process-identity.service';

/**
 * Medium test: the process lease on a real PostgreSQL store. "Gone" is what every other
 * process sees through `ownerGoneSql`: whether the work this process owns looks abandoned.
 */
describe('ProcessIdentity on a real PostgreSQL store', () => {
  let store: TestStore;

  beforeAll(async () => {
    store = await startStore();
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  const gone = async (identity: ProcessIdentity): Promise<boolean> => {
    const [row] = (await store.store.query(
      `SELECT ${identity.ownerGoneSql(String(identity.id))} AS gone`,
    )) as { gone: boolean }[];
    return row.gone;
  };
  /** What the timer calls every few seconds. */
  const checkLease = (identity: ProcessIdentity) =>
    (identity as unknown as { keepLease(): Promise<void> }).keepLease();

  it('holds its lease while it lives, and frees it at shutdown, though the pool keeps the connection', async () => {
    const identity = await ProcessIdentity.start(store.store);
    await checkLease(identity); // held: kept as it is
    expect(await gone(identity)).toBe(false);

    await identity.onApplicationShutdown();

    expect(await gone(identity)).toBe(true);
  });

  it('checks its lease every 5 seconds', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'clearTimeout'] });
    const check = jest
      .spyOn(ProcessIdentity.prototype as unknown as { keepLease(): Promise<void> }, 'keepLease')
      .mockResolvedValue(undefined);
    const identity = await ProcessIdentity.start(store.store);
    try {
      jest.advanceTimersByTime(4_999);
      expect(check).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(check).toHaveBeenCalledTimes(1);
    } finally {
      await identity.onApplicationShutdown();
      jest.useRealTimers();
    }
  });

  it('takes its lease again, under the same id, each time its session has ended', async () => {
    const identity = await ProcessIdentity.start(store.store);
    try {
      for (const outage of [1, 2]) {
        // The store ends the lease's session (a restart, an idle timeout, a cut connection).
        await store.store.query(
          `SELECT pg_terminate_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND ${THIS_DATABASE} AND objsubid = 2 AND objid = $1`,
          [identity.id],
        );
        for (let i = 0; i < 50 && !(await gone(identity)); i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect({ outage, gone: await gone(identity) }).toEqual({ outage, gone: true });

        await checkLease(identity);

        expect({ outage, gone: await gone(identity) }).toEqual({ outage, gone: false });
      }
      // The new session is the one given up at shutdown.
      await identity.onApplicationShutdown();
      expect(await gone(identity)).toBe(true);
    } finally {
      await identity.onApplicationShutdown();
    }
  });
});
