import { APP_CONFIG, AppConfig } from '@dbaas/core';
import { DriftRepair, LifecycleReconciler, SizeLimitCheck } from '@dbaas/databases';
import { JobScheduler, LockStrategy } from '@dbaas/operations';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { QuarantineService } from './quarantine.service';

export const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The API's background work, each job in one process at a time across the processes
 * sharing a store: the reconciler (then the drift repair) at boot and every
 * DBAAS_RECONCILE_INTERVAL_SECONDS (default a minute), the quarantine purge shortly after
 * boot and every hour, the size-limit check shortly after boot and every
 * DBAAS_SIZE_CHECK_INTERVAL_SECONDS (default 5 minutes). Shutdown waits for a running round.
 */
@Injectable()
export class BackgroundJobs implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly reconciler: JobScheduler;
  readonly purge: JobScheduler;
  readonly sizeLimit: JobScheduler;

  constructor(
    locks: LockStrategy,
    reconciler: LifecycleReconciler,
    drift: DriftRepair,
    quarantine: QuarantineService,
    sizeLimit: SizeLimitCheck,
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
    this.sizeLimit = new JobScheduler(
      'size-limit',
      locks,
      async () => void (await sizeLimit.checkAll()),
      config.sizeCheckIntervalSeconds * 1000,
      Math.min(config.sizeCheckIntervalSeconds * 1000, 10_000),
    );
  }

  onApplicationBootstrap(): void {
    this.reconciler.start();
    this.purge.start();
    this.sizeLimit.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.reconciler.stop(), this.purge.stop(), this.sizeLimit.stop()]);
  }
}
