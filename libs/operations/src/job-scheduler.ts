import { Logger } from '@nestjs/common';
import { holding, LockStrategy } from './lock-strategy';

/**
 * Runs a background job at boot (after `firstDelayMs`) and then every `intervalMs`, in one
 * process at a time: the job holds a store-wide lock while it runs, and a process that
 * finds it taken skips that round. Stopping waits for a running round to end.
 */
export class JobScheduler {
  private readonly logger: Logger;
  private timers: NodeJS.Timeout[] = [];
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly locks: LockStrategy,
    private readonly job: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly firstDelayMs: number,
  ) {
    this.logger = new Logger(name);
  }

  start(): void {
    this.timers = [
      setTimeout(() => void this.tick(), this.firstDelayMs),
      setInterval(() => void this.tick(), this.intervalMs),
    ];
    for (const timer of this.timers) timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    await this.running;
  }

  /** One round now (also what the timers call); resolves when it is done or skipped. */
  tick(): Promise<unknown> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = this.runIfFree()
      .catch((error: Error) => this.logger.warn(`${this.name} failed: ${error.message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async runIfFree(): Promise<void> {
    const lock = await this.locks.tryAcquire(`job:${this.name}`);
    if (lock) await holding(lock, this.job);
  }
}
