import { AccessPolicy } from '@dbaas/auth';
import { ConflictError } from '@dbaas/core';
import { DatabasesService, RecoveryHooks } from '@dbaas/databases';
import { InfraAccess } from '@dbaas/engines';
import { OperationRunner, TaskHistory } from '@dbaas/operations';
import { Logger } from '@nestjs/common';
import { BackupFiles } from './backup-files';
import { BackupRecord, BackupRepository, UnfinishedBackup } from './backup.repository';
import { backupFileKey, BackupsService, describeFailure } from './backups.service';
import { assertStorageKey } from './storage/storage-key';

/**
 * Unit: the recovery of backups a dead process left (which ones it touches, what it does
 * with them) and what a failure says. The whole flows run on real engines in
 * test/e2e/backups.e2e-spec.ts and test/e2e/backup-crash.e2e-spec.ts.
 */
describe('BackupsService', () => {
  const MINUTE = 60_000;
  let rows: Map<number, UnfinishedBackup>;
  let log: string[];
  let heldKeys: Set<string>;
  let interrupted: number[];
  /** What unfinished() lists, when it differs from the rows found later. */
  let listed: UnfinishedBackup[] | null;
  let sut: BackupsService;

  const backup = (id: number, extra: Partial<UnfinishedBackup> = {}): UnfinishedBackup => ({
    id,
    databaseId: 1,
    databaseName: 'shop',
    engineType: 'postgresql',
    environmentId: 1,
    planId: 1,
    teamId: 1,
    kind: 'manual',
    status: 'running',
    fileKey: `1/shop/${id}-manual.dump`,
    sizeInBytes: null,
    sha256: null,
    taskId: 100 + id,
    taskStatus: 'running',
    error: null,
    createdAt: new Date(Date.now() - 5 * MINUTE),
    finishedAt: null,
    scheduledFor: null,
    expiresAt: null,
    restoringDatabaseId: null,
    ...extra,
  });

  beforeEach(() => {
    rows = new Map();
    log = [];
    heldKeys = new Set();
    interrupted = [];
    listed = null;
    const repository = {
      unfinished: jest.fn(async () => listed ?? [...rows.values()]),
      find: jest.fn(async (id: number): Promise<BackupRecord | null> => rows.get(id) ?? null),
      transition: jest.fn(async (id: number, from: string, to: string, f: { error?: string }) => {
        log.push(`backup ${id} ${from} → ${to}: ${f.error}`);
      }),
      delete: jest.fn(async (id: number) => void log.push(`backup ${id} row deleted`)),
    };
    const files = {
      remove: jest.fn(async (key: string) => void log.push(`removed ${key}`)),
    };
    const runner = {
      runIfFree: jest.fn(async (key: string, work: () => Promise<unknown>) =>
        heldKeys.has(key) ? undefined : work(),
      ),
    };
    const history = {
      interrupted: jest.fn(async () => interrupted.map((id) => ({ id }))),
    };
    sut = new BackupsService(
      repository as unknown as BackupRepository,
      files as unknown as BackupFiles,
      {} as DatabasesService,
      {} as InfraAccess,
      runner as unknown as OperationRunner,
      history as unknown as TaskHistory,
      {} as AccessPolicy,
      new RecoveryHooks(),
    );
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  describe('recoverUnfinished', () => {
    it('fails a running backup whose task ended or whose process died, removing its file first', async () => {
      rows.set(1, backup(1, { taskStatus: 'error' }));
      rows.set(2, backup(2, { taskStatus: 'running' }));
      interrupted = [102];
      expect(await sut.recoverUnfinished()).toBe(2);
      const failed =
        'running → failed: Interrupted: the API process ended during the backup; no file is kept.';
      expect(log).toEqual([
        'removed 1/shop/1-manual.dump',
        `backup 1 ${failed}`,
        'removed 1/shop/2-manual.dump',
        `backup 2 ${failed}`,
      ]);
    });

    it('leaves a backup alone while its task is open in a live process', async () => {
      rows.set(1, backup(1, { taskStatus: 'running' }));
      rows.set(2, backup(2, { taskStatus: 'waiting' }));
      expect(await sut.recoverUnfinished()).toBe(0);
      expect(log).toEqual([]);
    });

    it('leaves it alone while its database is locked (an operation holds it)', async () => {
      rows.set(1, backup(1, { taskStatus: 'success' }));
      heldKeys.add('database:1:shop');
      expect(await sut.recoverUnfinished()).toBe(0);
      expect(log).toEqual([]);
    });

    it('takes a backup without a task for abandoned only after a minute (start() links it at once)', async () => {
      rows.set(1, backup(1, { taskId: null, taskStatus: null, createdAt: new Date() }));
      rows.set(2, backup(2, { taskId: null, taskStatus: null }));
      expect(await sut.recoverUnfinished()).toBe(1);
      expect(log[0]).toBe('removed 1/shop/2-manual.dump');
    });

    it('finishes an abandoned delete under the backup’s own lock: the file, then the row', async () => {
      rows.set(3, backup(3, { status: 'deleting', taskStatus: 'error' }));
      heldKeys.add('database:1:shop'); // a long backup of the database does not hold it up
      expect(await sut.recoverUnfinished()).toBe(1);
      expect(log).toEqual(['removed 1/shop/3-manual.dump', 'backup 3 row deleted']);
    });

    it('does nothing to a backup that finished meanwhile (read again under the lock)', async () => {
      listed = [backup(1, { taskStatus: 'success' })];
      rows.set(1, backup(1, { status: 'ready' }));
      expect(await sut.recoverUnfinished()).toBe(1);
      expect(log).toEqual([]);
    });
  });

  describe('describeFailure', () => {
    it('shows what is written to be shown, and nothing else', () => {
      const tool = Object.assign(new Error('pg_dump exited with 1: connection refused'), {
        name: 'BackupToolError',
      });
      expect(describeFailure(tool)).toBe('pg_dump exited with 1: connection refused');
      expect(describeFailure(new ConflictError('The database is quarantined.'))).toBe(
        'The database is quarantined.',
      );
      const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), {
        code: 'ECONNREFUSED',
      });
      expect(describeFailure(refused)).toBe(
        'The engine server could not be reached (ECONNREFUSED).',
      );
      expect(describeFailure(new Error('password=hunter2 leaked by a driver'))).toBe(
        'Internal error; see the server log.',
      );
    });
  });

  it('names files by environment, database, a random id and the kind: valid, distinct keys', () => {
    const a = backupFileKey(3, 'shop', 'final');
    expect(assertStorageKey(a)).toMatch(/^3\/shop\/[0-9a-f]{16}-final\.dump$/);
    expect(backupFileKey(3, 'shop', 'final')).not.toBe(a);
  });
});
