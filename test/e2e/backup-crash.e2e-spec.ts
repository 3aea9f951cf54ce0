import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineServer } from '../harness';
import { ApiProcess } from './support/api-process';
import {
  DataLogin,
  DataSession,
  mariadbData,
  postgresData,
  redisData,
} from './support/engine-data';
import { HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

/**
 * A process SIGKILLed in the middle of a backup and of a restore in place, on PostgreSQL,
 * MariaDB and Redis. The kill comes from the TEST-ONLY fault points `backup-dumping` and
 * `backup-restoring` (libs/core/src/testing/test-fault.ts): the API, started with
 * DBAAS_TEST_FAULT=<step>@<database>, kills itself 300 ms after the first bytes of the dump
 * went to the file (or of the backup to the restore tool). The next process must end:
 * - a backup: `failed`, with no file and no partial file under its key;
 * - a restore: finished by the reconciler from the same file, the database `ready` with
 *   exactly the backup's data (checksums of every table / key). On PostgreSQL the killed
 *   restore also changed nothing before that (one transaction, rolled back).
 */

interface EngineCase {
  engine: 'postgresql' | 'mysql' | 'redis';
  tag: string;
  plan: number;
  server: (stack: TestStack) => EngineServer;
  data: DataLogin;
  atomicRestore: boolean;
}

const ENGINES: EngineCase[] = [
  {
    engine: 'postgresql',
    tag: 'pg',
    plan: 1,
    server: (s) => s.pg,
    data: postgresData,
    atomicRestore: true,
  },
  {
    engine: 'mysql',
    tag: 'my',
    plan: 2,
    server: (s) => s.mariadb!,
    data: mariadbData,
    atomicRestore: false,
  },
  {
    engine: 'redis',
    tag: 'rd',
    plan: 4,
    server: (s) => s.redis!,
    data: redisData,
    atomicRestore: false,
  },
];

describe('a process killed mid-backup and mid-restore (e2e)', () => {
  let stack: TestStack;
  let api: ApiProcess;
  let http: HttpClient;
  let backupDir: string;

  beforeAll(async () => {
    backupDir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'dbaas-backups-'));
    stack = await startStack({
      engines: true,
      sampleDatabases: false,
      env: { DBAAS_BACKUP_DIR: backupDir, DBAAS_RECONCILE_INTERVAL_SECONDS: '1' },
    });
    api = stack.api;
    http = stack.http;
  }, 240_000);

  afterAll(async () => {
    await api?.stop();
    await stack?.stop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  /** (Re)starts the API, armed with a fault point (`<step>@<database>`) or not. */
  async function restart(fault?: string): Promise<void> {
    await api.stop();
    const env = { ...stack.api.env };
    if (fault) env.DBAAS_TEST_FAULT = fault;
    api = await ApiProcess.start(env);
    http = new HttpClient(api.baseUrl);
  }

  async function createDatabase(e: EngineCase, name: string) {
    const created = await http.post('/api/database/', { name, plan: e.plan, environment: 1 });
    expect(created.status).toBe(201);
    const credential = await http.get(new URL(created.body.credentials[0]._links.self).pathname);
    return {
      id: created.body.id as number,
      user: credential.body.user as string,
      password: credential.body.password as string,
    };
  }

  async function withSession<T>(
    e: EngineCase,
    name: string,
    owner: { user: string; password: string },
    work: (session: DataSession) => Promise<T>,
  ): Promise<T> {
    const session = await e.data(e.server(stack).port, name, owner.user, owner.password);
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  const backupRow = async (id: number) =>
    (
      await stack.metadata<{
        status: string;
        file_key: string;
        error: string | null;
        task_id: number;
        restoring_database_id: number | null;
      }>('SELECT * FROM backup WHERE id = $1', [id])
    )[0];
  const databaseStatus = async (id: number) =>
    (await stack.metadata<{ status: string }>('SELECT status FROM database WHERE id = $1', [id]))[0]
      ?.status;
  const taskOf = async (id: number) =>
    (
      await stack.metadata<{ type: string; status: string; error: string | null }>(
        'SELECT type, status, error FROM task WHERE id = $1',
        [id],
      )
    )[0];
  /** The files in the backup's folder, partial ones (hidden) included. */
  const filesBeside = (fileKey: string) => {
    const dir = join(backupDir, fileKey.split('/').slice(0, -1).join('/'));
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  describe.each(ENGINES)('$engine', (e) => {
    it('a backup killed while it dumps ends failed, with nothing left under its key', async () => {
      const name = `crash_bk_${e.tag}`;
      const owner = await createDatabase(e, name);
      await withSession(e, name, owner, (s) => s.seed());
      await restart(`backup-dumping@${name}`);
      const killed = api.exited();
      const answer = await http
        .post(`/api/database/${owner.id}/backup/`)
        .catch(() => ({ status: 0, body: null }));
      await killed;
      // The 202 went out before the dump began (or the process died first: then the row says).
      const [row] = await stack.metadata<{ id: number }>(
        'SELECT id FROM backup WHERE database_name = $1',
        [name],
      );
      if (answer.status) expect(answer).toMatchObject({ status: 202, body: { id: row.id } });
      const left = await backupRow(row.id);
      expect(left.status).toBe('running');
      expect(filesBeside(left.file_key).some((f) => f.endsWith('.partial'))).toBe(true);

      await restart();
      await until(async () => (await backupRow(row.id)).status !== 'running', 30_000);
      const after = await backupRow(row.id);
      expect(after).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(/Interrupted: .* no file is kept/),
      });
      expect(filesBeside(after.file_key)).toEqual([]);
      await until(async () => (await taskOf(after.task_id)).status !== 'running', 30_000);
      expect(await taskOf(after.task_id)).toMatchObject({
        type: 'backup_database',
        status: 'error',
        error: expect.stringMatching(/during the backup; the backup is marked failed/),
      });
      // The database was never touched, and takes a backup again.
      expect(await databaseStatus(owner.id)).toBe('ready');
      const again = await http.post(`/api/database/${owner.id}/backup/`);
      expect(again.status).toBe(202);
      await until(async () => (await backupRow(again.body.id)).status === 'ready', 60_000);
    }, 180_000);

    it('a restore killed mid-way is finished by the reconciler from the same file: exactly the backup’s data', async () => {
      const name = `crash_rs_${e.tag}`;
      const owner = await createDatabase(e, name);
      const original = await withSession(e, name, owner, async (s) => {
        await s.seed();
        return s.checksum();
      });
      const backup = await http.post(`/api/database/${owner.id}/backup/`);
      expect(backup.status).toBe(202);
      await until(async () => (await backupRow(backup.body.id)).status === 'ready', 60_000);
      const changed = await withSession(e, name, owner, async (s) => {
        await s.mutate();
        return s.checksum();
      });

      await restart(`backup-restoring@${name}`);
      const killed = api.exited();
      const answer = await http
        .post(`/api/backup/${backup.body.id}/restore/`)
        .catch(() => ({ status: 0, body: null }));
      await killed;
      if (answer.status) expect(answer.status).toBe(202);
      expect(await databaseStatus(owner.id)).toBe('restoring_backup');
      expect((await backupRow(backup.body.id)).restoring_database_id).toBe(owner.id);
      // What the kill left on the engine, before any reconciler ran.
      const checksum = () => withSession(e, name, owner, (s) => s.checksum());
      if (e.atomicRestore) {
        // One transaction, never committed: once the orphaned tool saw its input end, the
        // database is as it was before the restore.
        await until(
          async () => JSON.stringify(await checksum()) === JSON.stringify(changed),
          30_000,
        );
      } else {
        const between = await checksum().catch((error: Error) => error.message);
        const state =
          JSON.stringify(between) === JSON.stringify(changed) ? 'as before' : 'half restored';
        console.log(`${e.engine}: right after the kill the database is ${state}`);
      }

      await restart();
      await until(async () => (await databaseStatus(owner.id)) === 'ready', 60_000);
      expect(await withSession(e, name, owner, (s) => s.checksum())).toEqual(original);
      expect((await backupRow(backup.body.id)).restoring_database_id).toBeNull();
      // The interrupted task is closed as a success: the reconciler finished its work.
      const restoreTask = () =>
        stack.metadata<{ status: string; error: string | null }>(
          `SELECT status, error FROM task WHERE type = 'restore_backup' AND database_id = $1`,
          [owner.id],
        );
      await until(async () => (await restoreTask())[0].status !== 'running', 30_000);
      expect(await restoreTask()).toEqual([{ status: 'success', error: null }]);
    }, 240_000);
  });
});
