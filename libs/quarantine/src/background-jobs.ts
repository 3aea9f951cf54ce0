import { LifecycleReconciler } from '@dbaas/databases';
import { DatabaseLocks, JobScheduler } from '@dbaas/operations';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { QuarantineService } from './quarantine.service';

export const RECONCILE_INTERVAL_MS = 60_000;
export const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The API's background work, each job in one process at a time across the processes
 * sharing a store: the reconciler at boot and every minute, the quarantine purge shortly
 * after boot and every hour. Shutdown waits for a running round.
 */
@Injectable()
export class BackgroundJobs implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly reconciler: JobScheduler;
  readonly purge: JobScheduler;

  constructor(locks: DatabaseLocks, reconciler: LifecycleReconciler, quarantine: QuarantineService) {
    this.reconciler = new JobScheduler('reconciler', locks, async () => void (await reconciler.reconcileAll()), RECONCILE_INTERVAL_MS, 0);
    this.purge = new JobScheduler('purge', locks, async () => void (await quarantine.purge()), PURGE_INTERVAL_MS, 5_000);
  }

  onApplicationBootstrap(): void {
    this.reconciler.start();
    this.purge.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.reconciler.stop(), this.purge.stop()]);
  }
}
