import { BackupExpiry, ScheduledBackups } from '@dbaas/backups';
import { AppConfig } from '@dbaas/core';
import { DriftRepair, LifecycleReconciler } from '@dbaas/databases';
import { LockStrategy } from '@dbaas/operations';
import { BACKUP_JOBS_FIRST_DELAY_MS, BackgroundJobs, PURGE_INTERVAL_MS } from './background-jobs';
import { QuarantineService } from './quarantine.service';

describe('BackgroundJobs', () => {
  let log: string[];
  let jobs: BackgroundJobs;

  beforeEach(() => {
    jest.useFakeTimers();
    log = [];
    const locks = {
      tryAcquire: async (key: string) => {
        log.push(`lock ${key}`);
        return { release: async () => undefined };
      },
    };
    jobs = new BackgroundJobs(
      locks as unknown as LockStrategy,
      { reconcileAll: async () => void log.push('reconcile') } as unknown as LifecycleReconciler,
      { repairAll: async () => void log.push('repair drift') } as unknown as DriftRepair,
      { purge: async () => void log.push('purge') } as unknown as QuarantineService,
      {
        runOnce: async () => void log.push('scheduled backups'),
        stop: () => void log.push('stop scheduled backups'),
      } as unknown as ScheduledBackups,
      { runOnce: async () => void log.push('backup expiry') } as unknown as BackupExpiry,
      { reconcileIntervalSeconds: 30, backupJobIntervalSeconds: 3600 } as AppConfig,
    );
  });
  afterEach(() => jest.useRealTimers());

  it('reconciles, then repairs drift, under the reconciler lock', async () => {
    await jobs.reconciler.tick();
    expect(log).toEqual(['lock job:reconciler', 'reconcile', 'repair drift']);
  });

  it('purges under the purge lock', async () => {
    await jobs.purge.tick();
    expect(log).toEqual(['lock job:purge', 'purge']);
  });

  it('takes the scheduled backups and removes expired ones, each under its own lock', async () => {
    await jobs.scheduledBackups.tick();
    await jobs.backupExpiry.tick();
    expect(log).toEqual([
      'lock job:scheduled-backups',
      'scheduled backups',
      'lock job:backup-expiry',
      'backup expiry',
    ]);
  });

  it('reconciles at boot and every interval, purges 5 s after boot and every hour, until shutdown', async () => {
    jobs.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(log.filter((entry) => !entry.startsWith('lock'))).toEqual(['reconcile', 'repair drift']);

    log = [];
    await jest.advanceTimersByTimeAsync(BACKUP_JOBS_FIRST_DELAY_MS);
    expect(log.filter((entry) => !entry.startsWith('lock'))).toEqual([
      'scheduled backups',
      'backup expiry',
    ]);

    log = [];
    await jest.advanceTimersByTimeAsync(4_999 - BACKUP_JOBS_FIRST_DELAY_MS);
    expect(log).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(log).toEqual(['lock job:purge', 'purge']);

    log = [];
    await jest.advanceTimersByTimeAsync(25_000);
    expect(log).toEqual(['lock job:reconciler', 'reconcile', 'repair drift']);

    log = [];
    await jest.advanceTimersByTimeAsync(PURGE_INTERVAL_MS - 30_000);
    expect(log.filter((entry) => entry === 'purge')).toEqual(['purge']);
    expect(log.filter((entry) => entry === 'reconcile')).toHaveLength(
      PURGE_INTERVAL_MS / 30_000 - 1,
    );

    log = [];
    await jobs.onApplicationShutdown();
    expect(log).toEqual(['stop scheduled backups']);
    log = [];
    await jest.advanceTimersByTimeAsync(2 * PURGE_INTERVAL_MS);
    expect(log).toEqual([]);
  });

  it('purges every hour', () => {
    expect(PURGE_INTERVAL_MS).toBe(3_600_000);
  });
});
