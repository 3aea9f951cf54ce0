import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { failureText, isRefusal } from '../broker-errors';

/**
 * The asynchronous operations (accepts_incomplete=true) running in this process, by
 * instance id. Their outcome is read back through last_operation; a row `in progress`
 * that is not running here and has not changed for a while was cut off by a dead process.
 */
@Injectable()
export class BackgroundOperations implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Broker');
  private readonly running = new Map<string, Promise<unknown>>();

  isRunning(instanceId: string): boolean {
    return this.running.has(instanceId);
  }

  /** Lets the work finish; a failure is already recorded on the instance, and logged here. */
  start(instanceId: string, work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => {
        if (!isRefusal(error))
          this.logger.warn(`Operation on instance ${instanceId} failed: ${failureText(error)}`);
      })
      .finally(() => {
        if (this.running.get(instanceId) === tracked) this.running.delete(instanceId);
      });
    this.running.set(instanceId, tracked);
  }

  /** Lets asynchronous operations finish before the app closes (each is bounded to seconds). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }
}
