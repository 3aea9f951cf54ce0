import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AccessPolicy } from '@dbaas/auth';
import { FixedClock } from '@dbaas/core';
import { DatabaseRecord, DatabasesService } from '@dbaas/databases';
import {
  AdvisoryLocks,
  OperationRunner,
  ProcessIdentity,
  TaskHistory,
  TaskRepository,
} from '@dbaas/operations';
import { BackupEntity, BackupKind, TaskEntity } from '@dbaas/persistence';
import { DataSource } from 'typeorm';
import { seedCatalog, startStore, TestStore } from '../../../../test/harness/store.harness';
import { BackupFiles } from '../backup-files';
import { BackupRepository } from '../backup.repository';
import { BackupKey } from '../encryption/backup-key';
import { LocalDirStorage } from '../storage/local-dir.storage';
import { BackupExpiry } from './backup-expiry.service';
import { BackupScheduleRepository } from './backup-schedule.repository';
import { BackupsService } from '../backups.service';
import { ScheduledBackups } from './scheduled-backups.service';

/**
 * Medium test: the schedule's and the expiry's reads and writes on a real PostgreSQL store.
 * The backup itself is BackupsService's (branch backup-api): here a stand-in that does what
 * its contract says of `start` for the store (insertRunning, null when the day is taken,
 * then `ready`), without an engine. Two "processes" are two connection pools on one store.
 */
describe('scheduled backups and expiry on a real PostgreSQL store', () => {
  let store: TestStore;

  beforeAll(async () => {
    store = await startStore();
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
    // Plan 1 backs up at 03:00 UTC; plan 2 has no schedule.
    await store.store.query(`
      UPDATE plan SET backup_hour = 3 WHERE id = 1;
      INSERT INTO plan (name, engine_id) VALUES ('unscheduled', 1);
    `);
  });

  /** Inserts a database, created long ago unless told. */
  const addDatabase = async (
    name: string,
    extra: { plan?: number; status?: string; createdAt?: string } = {},
  ): Promise<number> => {
    const [{ id }] = (await store.store.query(
      `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status, created_at)
       VALUES ($1, $2, 1, 1, 1, $3, $4) RETURNING id`,
      [name, extra.plan ?? 1, extra.status ?? 'ready', extra.createdAt ?? '2026-01-01T00:00:00Z'],
    )) as { id: number }[];
    return id;
  };

  /** A "process": its own pool, repositories and job, on the same store. */
  const oneProcess = (
    source: DataSource,
    clock: FixedClock,
    /** What the dump does (the stand-in's): nothing, or throw to fail the backup. */
    dump: (name: string) => void = () => undefined,
  ) => {
    const backups = new BackupRepository(source.getRepository(BackupEntity));
    const databases = {
      find: async (id: number) => {
        const [row] = (await source.query(
          `SELECT id, name, status, environment_id AS "environmentId", team_id AS "teamId",
                  plan_id AS "planId" FROM database WHERE id = $1`,
          [id],
        )) as DatabaseRecord[];
        return row ?? null;
      },
    } as unknown as DatabasesService;
    const taker = {
      start: async (database, kind: BackupKind, _userId, options) => {
        const backup = await backups.insertRunning({
          databaseId: database.id,
          databaseName: database.name,
          engineType: 'mysql',
          environmentId: database.environmentId,
          planId: database.planId,
          teamId: database.teamId,
          kind,
          fileKey: `dev/${database.name}/${randomBytes(6).toString('hex')}-${kind}.dump`,
          scheduledFor: options?.scheduledFor,
        });
        if (!backup) return null;
        try {
          dump(database.name);
        } catch (error) {
          const why = (error as Error).message;
          await backups.transition(backup.id, 'running', 'failed', { error: why });
          return { backup, done: Promise.reject(new Error(why)) };
        }
        await backups.transition(backup.id, 'running', 'ready', { sizeInBytes: 1, sha256: 'x' });
        return { backup, done: backups.find(backup.id).then((found) => found!) };
      },
    } as Pick<BackupsService, 'start'> as BackupsService;
    return new ScheduledBackups(
      new BackupScheduleRepository(source.getRepository(BackupEntity)),
      databases,
      taker,
      clock,
    );
  };

  const scheduledRows = async () =>
    (await store.store.query(
      `SELECT database_name AS name, to_char(scheduled_for, 'YYYY-MM-DD') AS day
       FROM backup WHERE kind = 'scheduled' ORDER BY database_name, scheduled_for`,
    )) as { name: string; day: string }[];

  it('reads the ready databases of a scheduled plan, with whether the day is taken', async () => {
    await addDatabase('orders');
    await addDatabase('gone', { status: 'quarantined' });
    await addDatabase('creating', { status: 'creating' });
    await addDatabase('misc', { plan: 2 });
    const sut = new BackupScheduleRepository(store.store.getRepository(BackupEntity));

    expect(await sut.candidates('2026-11-29')).toEqual([
      {
        databaseId: 1,
        databaseName: 'orders',
        backupHour: 3,
        createdAt: new Date('2026-01-01T00:00:00Z'),
        takenToday: false,
      },
    ]);
    await store.store.query(
      `INSERT INTO backup (database_id, database_name, engine_type, environment_id, team_id, kind,
                           status, file_key, scheduled_for)
       VALUES (1, 'orders', 'mysql', 1, 1, 'scheduled', 'failed', 'k1', '2026-11-28')`,
    );
    expect((await sut.candidates('2026-11-29'))[0].takenToday).toBe(false);
    expect((await sut.candidates('2026-11-28'))[0].takenToday).toBe(true);
  });

  it('takes one backup a day per database at its hour, following the injected clock', async () => {
    await addDatabase('orders');
    await addDatabase('misc', { plan: 2 });
    await addDatabase('late', { createdAt: '2026-11-29T04:00:00Z' });
    const clock = new FixedClock(new Date('2026-11-29T02:59:00Z'));
    const sut = oneProcess(store.store, clock);

    expect((await sut.runOnce()).taken).toEqual([]);
    clock.set('2026-11-29T03:00:00Z');
    expect((await sut.runOnce()).taken).toEqual(['orders']);
    clock.set('2026-11-29T23:00:00Z');
    expect((await sut.runOnce()).taken).toEqual([]);
    clock.set('2026-11-30T03:30:00Z');
    expect((await sut.runOnce()).taken).toEqual(['orders', 'late']);

    expect(await scheduledRows()).toEqual([
      { name: 'late', day: '2026-11-30' },
      { name: 'orders', day: '2026-11-29' },
      { name: 'orders', day: '2026-11-30' },
    ]);
  });

  it('records a failed backup, does not retry it that day, and goes on with the others', async () => {
    await addDatabase('orders');
    await addDatabase('billing');
    const clock = new FixedClock(new Date('2026-11-29T05:00:00Z'));
    const failing = (name: string) => {
      if (name === 'orders') throw new Error('pg_dump failed (exit code 1)');
    };
    const sut = oneProcess(store.store, clock, failing);

    expect(await sut.runOnce()).toEqual({
      taken: ['billing'],
      failed: ['orders'],
      takenElsewhere: [],
    });
    expect(await sut.runOnce()).toEqual({ taken: [], failed: [], takenElsewhere: [] });
    clock.set('2026-11-30T05:00:00Z');
    expect((await oneProcess(store.store, clock).runOnce()).taken).toEqual(['orders', 'billing']);
  });

  it('ends a round after the backup under way once stopped (shutdown)', async () => {
    for (const name of ['a', 'b', 'c']) await addDatabase(name);
    const clock = new FixedClock(new Date('2026-11-29T05:00:00Z'));
    let sut: ScheduledBackups | undefined = undefined;
    sut = oneProcess(store.store, clock, () => sut!.stop());

    expect((await sut.runOnce()).taken).toEqual(['a']);
    expect(await scheduledRows()).toEqual([{ name: 'a', day: '2026-11-29' }]);
  });

  it('takes each backup exactly once when two processes run their rounds at the same time', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `db_${String(i).padStart(2, '0')}`);
    for (const name of names) await addDatabase(name);
    const clock = new FixedClock(new Date('2026-11-29T05:00:00Z'));
    const [a, b] = [oneProcess(await store.open(), clock), oneProcess(await store.open(), clock)];

    const [first, second] = await Promise.all([a.runOnce(), b.runOnce()]);

    expect([...first.taken, ...second.taken].sort()).toEqual(names);
    // A database the other process took first is not taken again: its insert got null, or
    // its round already saw the day taken.
    expect(first.failed.concat(second.failed)).toEqual([]);
    expect(await scheduledRows()).toEqual(names.map((name) => ({ name, day: '2026-11-29' })));
  });

  describe('expiry', () => {
    let dir: string;
    let files: BackupFiles;
    let me: ProcessIdentity;
    let sut: BackupExpiry;
    const clock = new FixedClock(new Date());
    const repository = () => new BackupRepository(store.store.getRepository(BackupEntity));

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dbaas-expiry-'));
      files = new BackupFiles(new LocalDirStorage(dir), BackupKey.fromSecretKey(randomBytes(32)));
      me = await ProcessIdentity.start(store.store);
      const history = new TaskHistory(
        new TaskRepository(store.store.getRepository(TaskEntity)),
        new AccessPolicy(),
        me,
      );
      const runner = new OperationRunner(new AdvisoryLocks(store.store), history);
      // BackupsService.delete uses the repository, the files and the runner only.
      const unused = null as never;
      const service = new BackupsService(
        repository(),
        files,
        unused,
        unused,
        runner,
        history,
        new AccessPolicy(),
        unused,
      );
      sut = new BackupExpiry(repository(), service, clock);
      await addDatabase('orders');
    });
    afterEach(async () => {
      await me.onApplicationShutdown();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A backup in `status`, with a stored file when `ready`, and the given dates. */
    const addBackup = async (
      status: 'ready' | 'failed' | 'running' | 'deleting',
      dates: { expiresAt?: string; finishedAt?: string } = {},
      withFile = status === 'ready',
    ) => {
      const backups = repository();
      const fileKey = `dev/orders/${randomBytes(6).toString('hex')}-manual.dump`;
      const { id } = (await backups.insertRunning({
        databaseId: 1,
        databaseName: 'orders',
        engineType: 'mysql',
        environmentId: 1,
        planId: 1,
        teamId: 1,
        kind: 'manual',
        fileKey,
      }))!;
      if (withFile) await files.save(fileKey, (out) => pipeline(Readable.from(['dump']), out));
      if (status !== 'running') {
        const to = status === 'failed' ? 'failed' : 'ready';
        await backups.transition(id, 'running', to, { sizeInBytes: 1, sha256: 'x' });
        if (status === 'deleting') await backups.transition(id, 'ready', 'deleting');
      }
      await store.store.query(
        `UPDATE backup SET expires_at = $2, finished_at = coalesce($3, finished_at) WHERE id = $1`,
        [id, dates.expiresAt ?? null, dates.finishedAt ?? null],
      );
      return { id, fileKey };
    };

    it('removes expired and day-old failed backups, file first then row, each as a delete_backup task', async () => {
      const now = new Date('2026-12-10T12:00:00Z');
      clock.set(now);
      const expired = await addBackup('ready', { expiresAt: '2026-12-10T11:00:00Z' });
      const expiredFileGone = await addBackup(
        'ready',
        { expiresAt: '2026-12-01T00:00:00Z' },
        false,
      );
      const kept = await addBackup('ready', { expiresAt: '2026-12-10T13:00:00Z' });
      const keptForever = await addBackup('ready');
      const oldFailure = await addBackup('failed', { finishedAt: '2026-12-09T11:59:00Z' });
      const newFailure = await addBackup('failed', { finishedAt: '2026-12-09T12:01:00Z' });
      const restoring = await addBackup('ready', { expiresAt: '2026-12-01T00:00:00Z' });
      await store.store.query('UPDATE backup SET restoring_database_id = 1 WHERE id = $1', [
        restoring.id,
      ]);
      const running = await addBackup('running', { expiresAt: '2026-12-01T00:00:00Z' });

      const result = await sut.runOnce();

      const gone = [expired, expiredFileGone, oldFailure].map((b) => b.id);
      // The one being restored is left for a later round.
      expect(result).toEqual({ removed: gone, failed: [restoring.id] });
      const left = (await store.store.query('SELECT id FROM backup ORDER BY id')) as {
        id: number;
      }[];
      expect(left.map((row) => row.id)).toEqual([
        kept.id,
        keptForever.id,
        newFailure.id,
        restoring.id,
        running.id,
      ]);
      expect(await files.exists(expired.fileKey)).toBe(false);
      expect(await files.exists(restoring.fileKey)).toBe(true);
      expect(await files.exists(kept.fileKey)).toBe(true);
      expect(existsSync(join(dir, keptForever.fileKey))).toBe(true);
      const tasks = (await store.store.query(
        `SELECT type, status, database_name AS name FROM task ORDER BY id`,
      )) as unknown[];
      expect(tasks).toEqual(
        gone.map(() => ({ type: 'delete_backup', status: 'success', name: 'orders' })),
      );
    });

    it('keeps the row (deleting, for the recovery) when the file cannot be removed, and goes on', async () => {
      clock.set(new Date('2026-12-10T12:00:00Z'));
      const first = await addBackup('ready', { expiresAt: '2026-12-10T11:00:00Z' });
      const second = await addBackup('ready', { expiresAt: '2026-12-10T11:00:00Z' });
      const broken = jest.spyOn(files, 'remove').mockRejectedValueOnce(new Error('storage down'));

      expect(await sut.runOnce()).toEqual({ removed: [second.id], failed: [first.id] });
      expect((await repository().find(first.id))?.status).toBe('deleting');
      expect(await files.exists(first.fileKey)).toBe(true);
      expect(await files.exists(second.fileKey)).toBe(false);
      broken.mockRestore();
    });
  });
});
