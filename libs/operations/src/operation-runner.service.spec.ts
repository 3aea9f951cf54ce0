import { TaskEntity } from '@dbaas/persistence';
import { DatabaseLocks, LockHandle, Statement } from './database-locks.service';
import { OperationRunner } from './operation-runner.service';
import { TaskHistory, TaskSubject } from './task-history.service';

const subject: TaskSubject = {
  type: 'quarantine_database',
  userId: 1,
  databaseId: 5,
  databaseName: 'orders',
};

const OPEN: Statement = { sql: 'INSERT task', params: [] };
const DONE: Statement = { sql: 'UPDATE task success', params: [] };

describe('OperationRunner', () => {
  let log: string[];
  let lockFree: boolean;
  let busyHere: boolean;
  let lock: jest.Mocked<LockHandle>;
  let locks: jest.Mocked<Pick<DatabaseLocks, 'hold'>>;
  let history: jest.Mocked<
    Pick<
      TaskHistory,
      'open' | 'openStatement' | 'opened' | 'started' | 'succeededStatement' | 'failed'
    >
  >;
  let sut: OperationRunner;

  beforeEach(() => {
    log = [];
    lockFree = true;
    busyHere = false;
    const task = { id: 7 } as TaskEntity;
    history = {
      open: jest.fn(async (_subject) => {
        log.push('task waiting');
        return task;
      }),
      openStatement: jest.fn((_subject) => OPEN),
      opened: jest.fn((_subject, _row) => task),
      started: jest.fn(async (_task) => void log.push('task running')),
      succeededStatement: jest.fn((_task) => DONE),
      failed: jest.fn(
        async (_task, error) => void log.push(`task error: ${(error as Error).message}`),
      ),
    };
    lock = {
      tryTake: jest.fn(async (statement: Statement) => {
        log.push(`try lock + ${statement.sql} (${lockFree ? 'running' : 'waiting'})`);
        return { taken: lockFree, rows: [{ id: 7 }] };
      }),
      take: jest.fn(async () => void log.push('lock (waited)')) as jest.Mocked<LockHandle>['take'],
      release: jest.fn(
        async (statement?: Statement) => void log.push(`${statement?.sql} + unlock`),
      ),
    };
    locks = {
      hold: jest.fn(
        async (key: string, use: (lock: LockHandle) => Promise<unknown>, onWait?: () => void) => {
          // This process is busy with the database: the operation waits here first.
          if (busyHere) onWait?.();
          log.push(`hold ${key}`);
          try {
            return await use(lock);
          } finally {
            log.push('end of hold');
          }
        },
      ) as jest.Mocked<DatabaseLocks>['hold'],
    };
    sut = new OperationRunner(locks as unknown as DatabaseLocks, history as unknown as TaskHistory);
  });

  it('takes the lock and writes the task running in one statement, and marks it done with the release', async () => {
    const result = await sut.run(subject, 'database:1:orders', async (task) => {
      log.push(`work on task ${task.id}`);
      return 'made';
    });

    expect(result).toBe('made');
    expect(history.openStatement).toHaveBeenCalledWith(subject);
    expect(history.opened).toHaveBeenCalledWith(subject, { id: 7 });
    expect(log).toEqual([
      'hold database:1:orders',
      'try lock + INSERT task (running)',
      'work on task 7',
      'UPDATE task success + unlock',
      'end of hold',
    ]);
    expect(history.open).not.toHaveBeenCalled();
    expect(history.started).not.toHaveBeenCalled();
  });

  it('when another process holds the lock: the task is written waiting, then running once the lock is taken', async () => {
    lockFree = false;

    await sut.run(subject, 'k', async () => void log.push('work'));

    expect(log).toEqual([
      'hold k',
      'try lock + INSERT task (waiting)',
      'lock (waited)',
      'task running',
      'work',
      'UPDATE task success + unlock',
      'end of hold',
    ]);
  });

  it('when this process is busy with the database: the task is written waiting before waiting for it', async () => {
    busyHere = true;

    await sut.run(subject, 'k', async () => void log.push('work'));

    expect(history.open).toHaveBeenCalledWith(subject);
    expect(log).toEqual([
      'task waiting',
      'hold k',
      'lock (waited)',
      'task running',
      'work',
      'UPDATE task success + unlock',
      'end of hold',
    ]);
    expect(lock.tryTake).not.toHaveBeenCalled();
  });

  it('records a failure with its error, rethrows it, and never marks the task done', async () => {
    const failure = new Error('engine said no');

    await expect(sut.run(subject, 'k', () => Promise.reject(failure))).rejects.toBe(failure);

    expect(history.failed).toHaveBeenCalledWith({ id: 7 }, failure);
    expect(lock.release).not.toHaveBeenCalled();
    expect(log.slice(-2)).toEqual(['task error: engine said no', 'end of hold']);
  });

  it('records an error when the success mark fails, though the work was done', async () => {
    const failure = new Error('store down');
    lock.release.mockRejectedValue(failure);

    await expect(sut.run(subject, 'k', async () => 'made')).rejects.toBe(failure);

    expect(history.failed).toHaveBeenCalledWith({ id: 7 }, failure);
    expect(log.at(-1)).toBe('end of hold');
  });

  it("rethrows the work's error even when the failure cannot be recorded", async () => {
    history.failed.mockRejectedValue(new Error('store down'));
    const failure = new Error('engine said no');

    await expect(sut.run(subject, 'k', () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('never runs the work when its task cannot be recorded', async () => {
    lock.tryTake.mockRejectedValue(new Error('store down'));
    const work = jest.fn();

    await expect(sut.run(subject, 'k', work)).rejects.toThrow('store down');

    expect(work).not.toHaveBeenCalled();
    expect(log.at(-1)).toBe('end of hold');
  });
});
