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
   * trips to the store around the work. An operation that has to wait is written `waiting`
   * first, and `running` once it holds the lock.
   */
  async run<T>(
    subject: TaskSubject,
    lockKey: string,
    work: (task: TaskEntity) => Promise<T>,
  ): Promise<T> {
    // Written while this process makes the operation wait (see DatabaseLocks.hold).
    let opening: Promise<TaskEntity> | undefined;
    const recordWaiting = () => {
      opening ??= this.history.open(subject);
      opening.catch(() => undefined);
    };
    return this.locks.hold(
      lockKey,
      async (lock) => {
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
        try {
          const result = await work(task);
          await lock.release(this.history.succeededStatement(task));
          return result;
        } catch (error) {
          // The work's failure, or the success mark's (the lock is released regardless).
          await this.history.failed(task, error).catch(() => undefined);
          throw error;
        }
      },
      recordWaiting,
    );
  }
}
