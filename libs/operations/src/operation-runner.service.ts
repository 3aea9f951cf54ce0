import { Injectable, Logger } from '@nestjs/common';
import { holding, LockStrategy } from './lock-strategy';
import { TaskHistory, TaskRecord, TaskSubject } from './task-history.service';

/**
 * The frame every engine operation runs in: it is recorded as a task and runs holding its
 * database's lock, so operations on one database never overlap, in this process or
 * another. In order: open the task (`waiting`), acquire the lock, start it (`running`), do
 * the work, mark it `success` or `error`, release the lock.
 *
 * A new long operation (backup, restore, clone, move) is a state of its subject, a
 * transition in its table, and a `work` function here.
 */
@Injectable()
export class OperationRunner {
  private readonly logger = new Logger('Operations');

  constructor(
    private readonly locks: LockStrategy,
    private readonly history: TaskHistory,
  ) {}

  /** Runs `work` as a task, under the lock of `lockKey` (waiting for it). */
  async run<T>(
    subject: TaskSubject,
    lockKey: string,
    work: (task: TaskRecord) => Promise<T>,
  ): Promise<T> {
    const { done } = await this.begin(subject, lockKey, work);
    return done;
  }

  /**
   * Like run, for work the caller does not wait for (a 202): the task is recorded before
   * this returns, so the answer can name it; the rest (lock, work, success or error) goes on
   * in the background. `done` settles with the work; a failure is already on the task, so
   * callers that do not need it may ignore it (`done` never rejects unhandled).
   */
  async begin<T>(
    subject: TaskSubject,
    lockKey: string,
    work: (task: TaskRecord) => Promise<T>,
  ): Promise<{ task: TaskRecord; done: Promise<T> }> {
    const task = await this.history.open(subject);
    const done = (async () => {
      let lock;
      try {
        lock = await this.locks.acquire(lockKey);
      } catch (error) {
        await this.history.failed(task, error).catch(() => undefined);
        throw error;
      }
      return holding(lock, () => this.track(task, work));
    })();
    done.catch(() => undefined);
    return { task, done };
  }

  /**
   * Runs `work` under the lock of `lockKey` only if nobody holds it (here or in another
   * process), else returns undefined at once. No task: the caller records the operations
   * it finds to do with `record` (the reconciler, drift repair, background jobs).
   */
  async runIfFree<T>(lockKey: string, work: () => Promise<T>): Promise<T | undefined> {
    const lock = await this.locks.tryAcquire(lockKey);
    if (!lock) return undefined;
    return holding(lock, work);
  }

  /** Runs `work` as a task, its lock already held by the caller (see runIfFree). */
  async record<T>(subject: TaskSubject, work: (task: TaskRecord) => Promise<T>): Promise<T> {
    return this.track(await this.history.open(subject), work);
  }

  /**
   * start → work → success or error. Once the work has succeeded, its result is returned
   * even if the `success` mark cannot be written (a create's one-time password would be
   * lost, and a retry would find the name taken): that is logged, and the task stays
   * `running` until a reconciler closes it, after this process ends, with what really
   * happened (see TaskHistory.interrupted).
   */
  private async track<T>(task: TaskRecord, work: (task: TaskRecord) => Promise<T>): Promise<T> {
    let result: T;
    try {
      await this.history.started(task);
      result = await work(task);
    } catch (error) {
      // The work's failure, or the start mark's (the lock is released regardless).
      await this.history.failed(task, error).catch(() => undefined);
      throw error;
    }
    try {
      if (!(await this.history.succeeded(task)))
        this.logger.warn(`Task ${task.id} (${task.type}) succeeded after a reconciler closed it`);
    } catch (error) {
      this.logger.warn(
        `The work of task ${task.id} (${task.type}) succeeded, but its success could not be recorded: ${errorKind(error)}`,
      );
    }
    return result;
  }
}

/** An error's class and code, without its text (a driver's message may hold anything). */
function errorKind(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.name} ${code}` : error.name;
}
