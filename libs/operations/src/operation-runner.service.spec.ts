import { Logger } from '@nestjs/common';
import { HeldLock, LockStrategy } from './lock-strategy';
import { OperationRunner } from './operation-runner.service';
import { TaskHistory, TaskRecord, TaskSubject } from './task-history.service';

const subject: TaskSubject = { type: 'create_database', userId: 2, databaseName: 'orders' };
const TASK = { id: 7 } as TaskRecord;

describe('OperationRunner', () => {
  let log: string[];
  /** Whether the lock is free for tryAcquire. */
  let free: boolean;
  let history: jest.Mocked<Pick<TaskHistory, 'open' | 'started' | 'succeeded' | 'failed'>>;
  let sut: OperationRunner;

  beforeEach(() => {
    log = [];
    free = true;
    const held: HeldLock = { release: async () => void log.push('release') };
    const locks: LockStrategy = {
      acquire: async (key: string) => (log.push(`acquire ${key}`), held),
      tryAcquire: async (key: string) => (log.push(`try ${key}`), free ? held : null),
    };
    history = {
      open: jest.fn(async (s: TaskSubject) => (log.push(`open ${s.type}`), TASK)),
      started: jest.fn(async (_task) => void log.push('start')),
      succeeded: jest.fn(async (_task) => (log.push('success'), true)),
      failed: jest.fn(async (_task, error: unknown) => (log.push(`error ${String(error)}`), true)),
    };
    sut = new OperationRunner(locks, history as unknown as TaskHistory);
  });

  it('run: open task → acquire → start → work → success → release', async () => {
    const result = await sut.run(subject, 'database:1:orders', async (task) => {
      log.push(`work on task ${task.id}`);
      return 'made';
    });

    expect(result).toBe('made');
    expect(log).toEqual([
      'open create_database',
      'acquire database:1:orders',
      'start',
      'work on task 7',
      'success',
      'release',
    ]);
  });

  it('begin: answers with the open task before the work runs; done settles with it', async () => {
    let finish!: (value: string) => void;
    const { task, done } = await sut.begin(subject, 'database:1:orders', async () => {
      log.push('work');
      return new Promise<string>((resolve) => (finish = resolve));
    });

    expect(task).toBe(TASK);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['open create_database', 'acquire database:1:orders', 'start', 'work']);
    finish('made');
    await expect(done).resolves.toBe('made');
    expect(log.slice(-2)).toEqual(['success', 'release']);
  });

  it('begin: a failing work marks the task failed; done rejects with the cause', async () => {
    const { done } = await sut.begin(subject, 'k', async () => {
      throw new Error('engine refused');
    });
    await expect(done).rejects.toThrow('engine refused');
    expect(log.slice(-2)).toEqual(['error Error: engine refused', 'release']);
  });

  it('run: a failing work marks the task failed, releases the lock and rethrows', async () => {
    const failure = new Error('engine refused');
    await expect(
      sut.run(subject, 'database:1:orders', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);

    expect(log).toEqual([
      'open create_database',
      'acquire database:1:orders',
      'start',
      'error Error: engine refused',
      'release',
    ]);
  });

  it('run: work done but its success mark failing is logged, not a failure: the result is returned', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    history.succeeded.mockRejectedValue(new Error('store down, password=hunter2'));

    // A create's one-time password is in its result: it must reach the caller.
    await expect(sut.run(subject, 'k', async () => 'made')).resolves.toBe('made');

    expect(log).toEqual(['open create_database', 'acquire k', 'start', 'release']);
    expect(history.failed).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain('task 7');
    expect(warn.mock.calls[0][0]).not.toContain('hunter2');
    warn.mockRestore();
  });

  it('run: a task whose lock cannot be acquired is failed, and nothing runs', async () => {
    const locks = {
      acquire: async () => {
        throw new Error('store down');
      },
    } as unknown as LockStrategy;
    sut = new OperationRunner(locks, history as unknown as TaskHistory);
    const work = jest.fn();
    await expect(sut.run(subject, 'k', work)).rejects.toThrow('store down');
    expect(work).not.toHaveBeenCalled();
    expect(log).toEqual(['open create_database', 'error Error: store down']);
  });

  it('runIfFree: runs the work under the lock without a task; skips it when the lock is held', async () => {
    await expect(sut.runIfFree('job:purge', async () => 'ran')).resolves.toBe('ran');
    free = false;
    await expect(sut.runIfFree('job:purge', async () => 'ran')).resolves.toBeUndefined();
    expect(log).toEqual(['try job:purge', 'release', 'try job:purge']);
  });

  it('record: a task around work whose lock the caller holds', async () => {
    await sut.record(subject, async () => void log.push('work'));
    expect(log).toEqual(['open create_database', 'start', 'work', 'success']);
  });
});
