import { BackupExpiry, ScheduledBackups } from '@dbaas/backups';
import { APP_CONFIG, AppConfig } from '@dbaas/core';
import { DriftRepair, LifecycleReconciler, SizeLimitCheck } from '@dbaas/databases';
import { JobScheduler, LockStrategy } from '@dbaas/operations';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { QuarantineService } from './quarantine.service';

export const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** After boot, the backup jobs wait for the reconciler's first round (it recovers backups). */
export const BACKUP_JOBS_FIRST_DELAY_MS = 3_000;

/**
 * The API's background work, each job in one process at a time across the processes
 * sharing a store: the reconciler (then the drift repair) at boot and every
 * DBAAS_RECONCILE_INTERVAL_SECONDS (default a minute), the quarantine purge shortly after
 * boot and every hour, the size-limit check shortly after boot and every
 * DBAAS_SIZE_CHECK_INTERVAL_SECONDS (default 5 minutes), the scheduled backups and the
 * backup expiry shortly after boot and every DBAAS_BACKUP_JOB_INTERVAL_SECONDS (default a
 * minute). Shutdown waits for a running round.
 */
@Injectable()
export class BackgroundJobs implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly reconciler: JobScheduler;
  readonly purge: JobScheduler;
  readonly sizeLimit: JobScheduler;
  readonly scheduledBackups: JobScheduler;
  readonly backupExpiry: JobScheduler;

  constructor(
    locks: LockStrategy,
    reconciler: LifecycleReconciler,
    drift: DriftRepair,
    quarantine: QuarantineService,
    sizeLimit: SizeLimitCheck,
    private readonly scheduled: ScheduledBackups,
    expiry: BackupExpiry,
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
    const backupIntervalMs = config.backupJobIntervalSeconds * 1000;
    this.scheduledBackups = new JobScheduler(
      'scheduled-backups',
      locks,
      async () => void (await scheduled.runOnce()),
      backupIntervalMs,
      BACKUP_JOBS_FIRST_DELAY_MS,
    );
    this.backupExpiry = new JobScheduler(
      'backup-expiry',
      locks,
      async () => void (await expiry.runOnce()),
      backupIntervalMs,
      BACKUP_JOBS_FIRST_DELAY_MS,
    );
  }

  private get all(): JobScheduler[] {
    return [this.reconciler, this.purge, this.sizeLimit, this.scheduledBackups, this.backupExpiry];
  }

  onApplicationBootstrap(): void {
    for (const job of this.all) job.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.scheduled.stop();
    await Promise.all(this.all.map((job) => job.stop()));
  }
}
