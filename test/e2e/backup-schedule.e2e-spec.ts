import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { BackupFiles, BackupKey, LocalDirStorage } from '@dbaas/backups';
import { PostgresDumpTool } from '@dbaas/engines';
import { ApiProcess, CLI_MAIN, runNode } from './support/api-process';
import { expectProblem } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

interface BackupRow {
  id: number;
  database_id: number | null;
  database_name: string;
  kind: string;
  status: string;
  file_key: string;
  sha256: string | null;
  scheduled_for: string | null;
  finished_at: Date | null;
  expires_at: Date | null;
  error: string | null;
}

/**
 * Scheduled backups, expiry and the final backup of a hard delete, on real servers: the
 * built API (two processes on one store for the schedule), PostgreSQL as engine and store,
 * backup files in a local folder, the backup jobs every second.
 */
describe('backup schedule, expiry and final backup (e2e)', () => {
  let stack: TestStack;
  let backupDir: string;
  let second: ApiProcess | undefined;

  const backups = (where = 'true') =>
    stack.metadata<BackupRow>(
      `SELECT id, database_id, database_name, kind, status, file_key, sha256,
              to_char(scheduled_for, 'YYYY-MM-DD') AS scheduled_for, finished_at, expires_at, error
       FROM backup WHERE ${where} ORDER BY id`,
    );

  /** SQL on the engine's PostgreSQL as its admin, in `database`. */
  const engine = async (database: string, sql: string) => {
    const client = new Client({
      connectionString: stack.pg.url.replace(/\/postgres$/, `/${database}`),
    });
    await client.connect();
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  const existsOnEngine = async (name: string) =>
    (await engine('postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`)).length === 1;

  beforeAll(async () => {
    backupDir = mkdtempSync(join(tmpdir(), 'dbaas-backup-schedule-'));
    stack = await startStack({
      engines: true,
      env: { DBAAS_BACKUP_DIR: backupDir, DBAAS_BACKUP_JOB_INTERVAL_SECONDS: '1' },
    });
  });
  afterAll(async () => {
    await second?.stop();
    await stack?.stop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  it('takes each database’s scheduled backup exactly once with two API processes on one store', async () => {
    second = await ApiProcess.start(stack.api.env);
    const live = await stack.metadata<{ id: number; name: string }>(
      `SELECT d.id, d.name FROM database d WHERE d.plan_id = 1 AND d.status = 'ready' ORDER BY d.id`,
    );
    expect(live.map((d) => d.name)).toEqual(['my_first_database', 'team1_database']);
    expect(await backups()).toEqual([]);

    // The databases existed yesterday, and plan 1 backs up at 00:00 UTC: today's is due now.
    await stack.metadata(
      `UPDATE database SET created_at = now() - interval '2 days' WHERE plan_id = 1`,
    );
    const plan = await stack.http.patch('/api/plan/1/', { backup_hour: 0 });
    expect(plan.body.backup_hour).toBe(0);

    await until(
      async () => (await backups(`kind = 'scheduled' AND status = 'ready'`)).length === live.length,
      60_000,
    );
    // Both processes run the job every second: give each several more rounds to (wrongly) take a second one.
    await new Promise((resolve) => setTimeout(resolve, 4_000));

    const today = new Date().toISOString().slice(0, 10);
    const scheduled = await backups(`kind = 'scheduled'`);
    expect(scheduled.map((b) => [b.database_name, b.scheduled_for, b.status])).toEqual(
      live.map((d) => [d.name, today, 'ready']),
    );
    for (const backup of scheduled) {
      const days = (backup.expires_at!.getTime() - backup.finished_at!.getTime()) / 86_400_000;
      expect(Math.round(days)).toBe(7);
    }
    const listed = await stack.http.get('/api/backup/?kind=scheduled');
    expect(listed.body._links.count).toBe(live.length);
    const tasks = await stack.metadata<{ n: number }>(
      `SELECT count(*)::int AS n FROM task WHERE type = 'backup_database'`,
    );
    expect(tasks).toEqual([{ n: live.length }]);
    await stack.http.patch('/api/plan/1/', { backup_hour: null });
  });

  it('takes a final backup before a hard delete; its file is the database’s data', async () => {
    await engine(
      'my_first_database',
      `CREATE TABLE items AS SELECT i AS id, md5(i::text) AS label FROM generate_series(1, 5000) i`,
    );
    const [{ sum }] = await engine(
      'my_first_database',
      `SELECT md5(string_agg(label, ',' ORDER BY id)) AS sum FROM items`,
    );
    expect((await stack.http.delete('/api/database/1/')).status).toBe(204); // quarantine
    expect((await stack.http.delete('/api/database/1/')).status).toBe(204); // for good

    expect(await existsOnEngine('my_first_database')).toBe(false);
    const [final] = await backups(`kind = 'final'`);
    expect(final).toMatchObject({
      database_id: null,
      database_name: 'my_first_database',
      status: 'ready',
      error: null,
    });
    expect(
      Math.round((final.expires_at!.getTime() - final.finished_at!.getTime()) / 86_400_000),
    ).toBe(7);
    const shown = await stack.http.get(`/api/backup/${final.id}/`);
    expect(shown.body).toMatchObject({
      database: null,
      database_name: 'my_first_database',
      kind: 'final',
      status: 'ready',
    });
    const task = await stack.metadata<{ type: string; status: string }>(
      `SELECT t.type, t.status FROM task t JOIN backup b ON b.task_id = t.id WHERE b.id = $1`,
      [final.id],
    );
    expect(task).toEqual([{ type: 'delete_database', status: 'success' }]);

    // The stored file opens with the app's key and restores, with pg_restore, to the same rows.
    const files = new BackupFiles(
      new LocalDirStorage(backupDir),
      BackupKey.fromSecretKey(Buffer.from(stack.api.env.DBAAS_SECRET_KEY, 'hex')),
    );
    await engine('postgres', 'CREATE DATABASE final_check');
    const target = {
      id: 0,
      addresses: [stack.pg.address],
      adminUser: stack.pg.adminUser,
      adminPassword: stack.pg.adminPassword,
    };
    await new PostgresDumpTool().restore(
      target,
      'final_check',
      await files.open(final.file_key, final.sha256!),
      { owner: stack.pg.adminUser },
    );
    const [restored] = await engine(
      'final_check',
      `SELECT md5(string_agg(label, ',' ORDER BY id)) AS sum FROM items`,
    );
    expect(restored.sum).toBe(sum);
  });

  it('removes a backup once it expires: the file, then the row', async () => {
    const [final] = await backups(`kind = 'final'`);
    const path = join(backupDir, final.file_key);
    expect(readdirSync(join(path, '..'))).toContain(final.file_key.split('/').pop());

    await stack.metadata(
      `UPDATE backup SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [final.id],
    );
    await until(async () => (await backups(`id = ${final.id}`)).length === 0, 30_000);

    expect(readdirSync(join(path, '..'))).not.toContain(final.file_key.split('/').pop());
    const tasks = await stack.metadata<{ status: string }>(
      `SELECT status FROM task WHERE type = 'delete_backup' AND database_name = 'my_first_database'`,
    );
    expect(tasks).toEqual([{ status: 'success' }]);
  });

  it('stops the hard delete with 503 when the final backup fails, changing nothing; skip_backup=true deletes anyway', async () => {
    const [{ id }] = await stack.metadata<{ id: number }>(
      `SELECT id FROM database WHERE name = 'team1_database'`,
    );
    expect((await stack.http.delete(`/api/database/${id}/`)).status).toBe(204);
    expectProblem(await stack.http.delete(`/api/database/${id}/?skip_backup=maybe`), 400);

    // The backup storage breaks: its folder is a file now.
    renameSync(backupDir, `${backupDir}.away`);
    writeFileSync(backupDir, 'not a folder');
    try {
      const refused = await stack.http.delete(`/api/database/${id}/`);
      expectProblem(refused, 503);
      expect(refused.body.detail).toMatch(
        /final backup of team1_database failed.*still quarantined.*skip_backup=true/,
      );
      expect((await stack.http.get(`/api/database/${id}/`)).body.status).toBe('quarantined');
      expect(await existsOnEngine('team1_database')).toBe(true);
      const failed = await backups(`kind = 'final' AND database_name = 'team1_database'`);
      expect(failed.map((b) => [b.status, b.database_id])).toEqual([['failed', id]]);

      expect((await stack.http.delete(`/api/database/${id}/?skip_backup=true`)).status).toBe(204);
      expectProblem(await stack.http.get(`/api/database/${id}/`), 404);
      expect(await existsOnEngine('team1_database')).toBe(false);
    } finally {
      rmSync(backupDir, { force: true });
      renameSync(`${backupDir}.away`, backupDir);
    }
  });

  it('answers 503 and keeps the database quarantined while its engine is down; takes the final backup (MariaDB) once it is back', async () => {
    const [{ id }] = await stack.metadata<{ id: number }>(
      `SELECT id FROM database WHERE name = 'sample_mysql'`,
    );
    expect((await stack.http.delete(`/api/database/${id}/`)).status).toBe(204);
    await stack.mariadb!.stop();
    try {
      expectProblem(await stack.http.delete(`/api/database/${id}/`), 503);
      expect((await stack.http.get(`/api/database/${id}/`)).body.status).toBe('quarantined');
      expect(await backups(`database_name = 'sample_mysql'`)).toEqual([]);
    } finally {
      await stack.mariadb!.start();
    }

    expect((await stack.http.delete(`/api/database/${id}/`)).status).toBe(204);
    const final = await backups(`database_name = 'sample_mysql'`);
    expect(final.map((b) => [b.kind, b.status, b.database_id])).toEqual([['final', 'ready', null]]);
  });

  it('reset-data removes every backup file with the backup table', async () => {
    const before = await backups();
    expect(before.length).toBeGreaterThan(0);
    await second?.stop();
    second = undefined;
    await stack.api.stop();

    const reset = await runNode(CLI_MAIN, ['reset-data'], stack.api.env, 120_000);
    expect(reset.code).toBe(0);

    expect(await backups()).toEqual([]);
    const left: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }))
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else left.push(entry.name);
    };
    walk(backupDir);
    expect(left).toEqual([]);
  });
});
