import { APP_CONFIG, AppConfig } from '@dbaas/core';
import { DriftRepair, LifecycleReconciler } from '@dbaas/databases';
import { JobScheduler, LockStrategy } from '@dbaas/operations';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { QuarantineService } from './quarantine.service';

export const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The API's background work, each job in one process at a time across the processes
 * sharing a store: the reconciler (then the drift repair) at boot and every
 * DBAAS_RECONCILE_INTERVAL_SECONDS (default a minute), the quarantine purge shortly after
 * boot and every hour. Shutdown waits for a running round.
 */
@Injectable()
export class BackgroundJobs implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly reconciler: JobScheduler;
  readonly purge: JobScheduler;

  constructor(
    locks: LockStrategy,
    reconciler: LifecycleReconciler,
    drift: DriftRepair,
    quarantine: QuarantineService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const reconcile = async () => {
      await reconciler.reconcileAll();
      await drift.repairAll();
    };
    this.reconciler = new JobScheduler(
      'reconciler',
      locks,
      reconcile,
      config.reconcileIntervalSeconds * 1000,
      0,
    );
    this.purge = new JobScheduler(
      'purge',
      locks,
      async () => void (await quarantine.purge()),
      PURGE_INTERVAL_MS,
      5_000,
    );
  }

  onApplicationBootstrap(): void {
    this.reconciler.start();
    this.purge.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.reconciler.stop(), this.purge.stop()]);
  }
}
