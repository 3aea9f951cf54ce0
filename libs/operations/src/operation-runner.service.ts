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

  /**
   * In the usual case (nobody else on this database) the task is written `running` in the
   * statement that takes the lock, and marked done in the one that releases it: two round
   * trips to the store around the work. Otherwise the task is written `waiting` first.
   */
  async run<T>(subject: TaskSubject, lockKey: string, work: (task: TaskEntity) => Promise<T>): Promise<T> {
    // Waiting here (another operation on this database in this process): recorded meanwhile.
    const opening = this.locks.wouldWait(lockKey) ? this.history.open(subject) : undefined;
    opening?.catch(() => undefined);
    return this.locks.hold(lockKey, async (lock) => {
      let task: TaskEntity;
      if (opening) {
        task = await opening;
        await lock.take();
        await this.history.started(task);
      } else {
        const { taken, rows } = await lock.tryTake(this.history.openStatement(subject));
        task = this.history.opened(subject, rows[0]);
        if (!taken) {
          await lock.take();
          await this.history.started(task);
        }
      }
      let result: T;
      try {
        result = await work(task);
      } catch (error) {
        await this.history.failed(task, error).catch(() => undefined);
        throw error;
      }
      await lock.release(this.history.succeededStatement(task));
      return result;
    });
  }
}
