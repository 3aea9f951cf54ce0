import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { QuarantineService } from './quarantine.service';

export const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** Purges expired quarantines once an hour in the API process (and once at boot). */
@Injectable()
export class PurgeScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('PurgeScheduler');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(private readonly quarantine: QuarantineService) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), PURGE_INTERVAL_MS);
    this.timer.unref();
    setTimeout(() => this.tick(), 5_000).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.quarantine
      .purge()
      .then(({ purged, failed }) => {
        if (purged.length || failed.length) {
          this.logger.log(
            `Purged ${purged.length} expired quarantined database(s); ${failed.length} failed`,
          );
        }
      })
      .catch((error: Error) => this.logger.warn(`Purge run failed: ${error.message}`))
      .finally(() => (this.running = undefined));
  }
}
