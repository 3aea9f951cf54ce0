import { Logger } from '@nestjs/common';
import { LockStrategy } from './lock-strategy';
import { JobScheduler } from './job-scheduler';

describe('JobScheduler', () => {
  let log: string[];
  /** Whether another process holds the job's lock (tryAcquire then skips the round). */
  let heldElsewhere: boolean;
  const locks = {
    tryAcquire: async (key: string) => {
      log.push(`lock ${key}`);
      return heldElsewhere ? null : { release: async () => undefined };
    },
  } as unknown as LockStrategy;

  beforeEach(() => {
    log = [];
    heldElsewhere = false;
  });

  it('runs a round under the job lock', async () => {
    const sut = new JobScheduler('purge', locks, async () => void log.push('work'), 1000, 0);
    await sut.tick();
    expect(log).toEqual(['lock job:purge', 'work']);
  });

  it('skips the work when another process holds the lock', async () => {
    heldElsewhere = true;
    const sut = new JobScheduler('purge', locks, async () => void log.push('work'), 1000, 0);
    await sut.tick();
    expect(log).toEqual(['lock job:purge']);
  });

  it('never runs two rounds at once: a tick during a round waits for it', async () => {
    let finish!: () => void;
    const sut = new JobScheduler(
      'reconciler',
      locks,
      () => new Promise<void>((resolve) => (log.push('work'), (finish = resolve))),
      1000,
      0,
    );
    const first = sut.tick();
    const second = sut.tick();
    await Promise.resolve();
    expect(log).toEqual(['lock job:reconciler', 'work']);
    let secondDone = false;
    void second.then(() => (secondDone = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondDone).toBe(false);
    finish();
    await Promise.all([first, second]);
    expect(secondDone).toBe(true);
    const third = sut.tick();
    await new Promise((resolve) => setImmediate(resolve));
    finish();
    await third;
    expect(log).toEqual(['lock job:reconciler', 'work', 'lock job:reconciler', 'work']);
  });

  it('logs a failed round and goes on', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    let fail = true;
    const sut = new JobScheduler(
      'purge',
      locks,
      async () => {
        log.push('work');
        if (fail) throw new Error('engine down');
      },
      1000,
      0,
    );
    await expect(sut.tick()).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith('purge failed: engine down');
    fail = false;
    await sut.tick();
    expect(log).toEqual(['lock job:purge', 'work', 'lock job:purge', 'work']);
    warn.mockRestore();
  });

  describe('timers', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('runs after the first delay, then every interval, and not after stop', async () => {
      const sut = new JobScheduler('purge', locks, async () => void log.push('work'), 1000, 300);
      sut.start();
      await jest.advanceTimersByTimeAsync(299);
      expect(log).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(log).toEqual(['lock job:purge', 'work']);
      await jest.advanceTimersByTimeAsync(700);
      expect(log.filter((entry) => entry === 'work')).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1000);
      expect(log.filter((entry) => entry === 'work')).toHaveLength(3);
      await sut.stop();
      await jest.advanceTimersByTimeAsync(5000);
      expect(log.filter((entry) => entry === 'work')).toHaveLength(3);
      await sut.tick();
      expect(log.filter((entry) => entry === 'work')).toHaveLength(3);
    });
  });

  it('waits for a running round when stopped', async () => {
    let finish!: () => void;
    const sut = new JobScheduler(
      'purge',
      locks,
      () => new Promise<void>((resolve) => (finish = resolve)),
      1000,
      0,
    );
    void sut.tick();
    await Promise.resolve();
    let stopped = false;
    const stopping = sut.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(stopped).toBe(true);
  });
});
