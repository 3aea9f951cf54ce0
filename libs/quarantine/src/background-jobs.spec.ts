import { BackupExpiry, ScheduledBackups } from '@dbaas/backups';
import { AppConfig } from '@dbaas/core';
import { DriftRepair, LifecycleReconciler, SizeLimitCheck } from '@dbaas/databases';
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
      { checkAll: async () => void log.push('check sizes') } as unknown as SizeLimitCheck,
      {
        runOnce: async () => void log.push('scheduled backups'),
        stop: () => void log.push('stop scheduled backups'),
      } as unknown as ScheduledBackups,
      { runOnce: async () => void log.push('backup expiry') } as unknown as BackupExpiry,
      {
        reconcileIntervalSeconds: 30,
        sizeCheckIntervalSeconds: 300,
        backupJobIntervalSeconds: 3600,
      } as AppConfig,
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

  it('runs the backup jobs shortly after boot, and stops the scheduled backups first at shutdown', async () => {
    jobs.onApplicationBootstrap();
    const backupRounds = () =>
      log.filter((entry) => entry === 'scheduled backups' || entry === 'backup expiry');
    await jest.advanceTimersByTimeAsync(BACKUP_JOBS_FIRST_DELAY_MS - 1);
    expect(backupRounds()).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(backupRounds()).toEqual(['scheduled backups', 'backup expiry']);
    log = [];
    await jobs.onApplicationShutdown();
    expect(log).toEqual(['stop scheduled backups']);
  });

  it('checks sizes under the size-limit lock, 10 s after boot and every interval', async () => {
    await jobs.sizeLimit.tick();
    expect(log).toEqual(['lock job:size-limit', 'check sizes']);
    log = [];
    jobs.onApplicationBootstrap();
    const sizeChecks = () => log.filter((entry) => entry === 'check sizes').length;
    await jest.advanceTimersByTimeAsync(9_999);
    expect(sizeChecks()).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(sizeChecks()).toBe(1);
    await jest.advanceTimersByTimeAsync(300_000);
    expect(sizeChecks()).toBe(2);
    await jobs.onApplicationShutdown();
  });

  it('reconciles at boot and every interval, purges 5 s after boot and every hour, until shutdown', async () => {
    jobs.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(log.filter((entry) => !entry.startsWith('lock'))).toEqual(['reconcile', 'repair drift']);

    log = [];
    await jest.advanceTimersByTimeAsync(4_999);
    // The backup jobs' first rounds (3 s after boot) are checked on their own.
    log = log.filter((entry) => !/backup/.test(entry));
    expect(log).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(log).toEqual(['lock job:purge', 'purge']);

    log = [];
    await jest.advanceTimersByTimeAsync(25_000);
    expect(log.filter((entry) => !entry.endsWith('size-limit') && entry !== 'check sizes')).toEqual(
      ['lock job:reconciler', 'reconcile', 'repair drift'],
    );

    log = [];
    await jest.advanceTimersByTimeAsync(PURGE_INTERVAL_MS - 30_000);
    expect(log.filter((entry) => entry === 'purge')).toEqual(['purge']);
    expect(log.filter((entry) => entry === 'reconcile')).toHaveLength(
      PURGE_INTERVAL_MS / 30_000 - 1,
    );

    await jobs.onApplicationShutdown();
    log = [];
    await jest.advanceTimersByTimeAsync(2 * PURGE_INTERVAL_MS);
    expect(log).toEqual([]);
  });

  it('purges every hour', () => {
    expect(PURGE_INTERVAL_MS).toBe(3_600_000);
  });
});
