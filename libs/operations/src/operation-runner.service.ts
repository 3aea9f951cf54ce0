import { Injectable } from '@nestjs/common';
import { TaskEntity } from '@dbaas/persistence';
import { DatabaseLocks } from './database-locks.service';
import { TaskHistory, TaskSubject } from './task-history.service';

/**
 * Every engine operation goes through here: it is recorded as a task (waiting, running,
 * success or error) and runs holding its database's lock, so operations on one database
 * never overlap, in this process or another.
 */
@Injectable()
export class OperationRunner {
  constructor(
    private readonly locks: DatabaseLocks,
    private readonly history: TaskHistory,
  ) {}

  async run<T>(subject: TaskSubject, lockKey: string, work: (task: TaskEntity) => Promise<T>): Promise<T> {
    // The task is written (waiting) while the lock is being taken, not before.
    const opening = this.history.open(subject);
    opening.catch(() => undefined);
    return this.locks.withLock(lockKey, async () => {
      const task = await opening;
      await this.history.started(task);
      try {
        const result = await work(task);
        await this.history.succeeded(task);
        return result;
      } catch (error) {
        await this.history.failed(task, error).catch(() => undefined);
        throw error;
      }
    });
  }
}
