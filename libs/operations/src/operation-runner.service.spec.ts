import { TaskEntity } from '@dbaas/persistence';
import { DatabaseLocks } from './database-locks.service';
import { OperationRunner } from './operation-runner.service';
import { TaskHistory, TaskSubject } from './task-history.service';

const subject: TaskSubject = {
  type: 'quarantine_database',
  userId: 1,
  databaseId: 5,
  databaseName: 'orders',
};

describe('OperationRunner', () => {
  let log: string[];
  let locks: jest.Mocked<Pick<DatabaseLocks, 'withLock'>>;
  let history: jest.Mocked<Pick<TaskHistory, 'open' | 'started' | 'succeeded' | 'failed'>>;
  let sut: OperationRunner;

  beforeEach(() => {
    log = [];
    const task = { id: 7 } as TaskEntity;
    history = {
      open: jest.fn(async (_subject) => {
        log.push('task waiting');
        return task;
      }),
      started: jest.fn(async (_task) => void log.push('task running')),
      succeeded: jest.fn(async (_task) => void log.push('task success')),
      failed: jest.fn(
        async (_task, error) => void log.push(`task error: ${(error as Error).message}`),
      ),
    };
    locks = {
      withLock: jest.fn(async (key: string, work: () => Promise<unknown>) => {
        log.push(`lock ${key}`);
        try {
          return await work();
        } finally {
          log.push('unlock');
        }
      }) as jest.Mocked<DatabaseLocks>['withLock'],
    };
    sut = new OperationRunner(locks as unknown as DatabaseLocks, history as unknown as TaskHistory);
  });

  it('runs the work holding the lock, and records it running, then done, inside the lock', async () => {
    const result = await sut.run(subject, 'database:1:orders', async (task) => {
      log.push(`work on task ${task.id}`);
      return 'made';
    });

    expect(result).toBe('made');
    expect(history.open).toHaveBeenCalledWith(subject);
    expect(log).toEqual([
      'task waiting',
      'lock database:1:orders',
      'task running',
      'work on task 7',
      'task success',
      'unlock',
    ]);
  });

  it('records a failure with its error and rethrows that error', async () => {
    const failure = new Error('engine said no');

    await expect(sut.run(subject, 'k', () => Promise.reject(failure))).rejects.toBe(failure);

    expect(history.failed).toHaveBeenCalledWith({ id: 7 }, failure);
    expect(history.succeeded).not.toHaveBeenCalled();
    expect(log.at(-1)).toBe('unlock');
  });

  it("rethrows the work's error even when the failure cannot be recorded", async () => {
    history.failed.mockRejectedValue(new Error('store down'));
    const failure = new Error('engine said no');

    await expect(sut.run(subject, 'k', () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('never runs the work when its task cannot be recorded', async () => {
    history.open.mockRejectedValue(new Error('store down'));
    const work = jest.fn();

    await expect(sut.run(subject, 'k', work)).rejects.toThrow('store down');

    expect(work).not.toHaveBeenCalled();
    expect(history.started).not.toHaveBeenCalled();
  });
});
