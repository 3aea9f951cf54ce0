import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineServer } from '../harness';
import {
  DataLogin,
  DataSession,
  mariadbData,
  postgresData,
  redisData,
} from './support/engine-data';
import { apiLoginEnv, CLI_MAIN, runNode } from './support/api-process';
import { Answer, expectProblem, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

/**
 * Backups and restores in place through the API, on real PostgreSQL, MariaDB and Redis
 * servers (the harness's throwaway engines, real password auth): data written with the
 * engine's own client under the issued credential comes back exactly (checksums of every
 * table / key, values and times to live) after it was changed, deleted and added to; the
 * credential still logs in with the same password; open sessions are ended. And the
 * refusals: engine down (503, nothing recorded), quarantined (409), another team (404), a
 * tampered file (the restore fails clearly, the database unchanged).
 */

interface EngineCase {
  engine: 'postgresql' | 'mysql' | 'redis';
  plan: number;
  server: (stack: TestStack) => EngineServer;
  data: DataLogin;
  /** Whether the engine has sessions per database that a restore ends. */
  endsSessions: boolean;
}

const ENGINES: EngineCase[] = [
  { engine: 'postgresql', plan: 1, server: (s) => s.pg, data: postgresData, endsSessions: true },
  {
    engine: 'mysql',
    plan: 2,
    server: (s) => s.mariadb!,
    data: mariadbData,
    endsSessions: true,
  },
  { engine: 'redis', plan: 4, server: (s) => s.redis!, data: redisData, endsSessions: false },
];

describe('backups and restores in place on PostgreSQL, MariaDB and Redis (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;
  let backupDir: string;

  beforeAll(async () => {
    backupDir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'dbaas-backups-'));
    stack = await startStack({
      engines: true,
      sampleDatabases: false,
      env: { DBAAS_BACKUP_DIR: backupDir },
    });
    http = stack.http;
    for (const [username, teams] of [
      ['member', [1]],
      ['outsider', [2]],
    ] as const) {
      const created = await http.post('/api/user/', {
        username,
        password: `${username}-pass-1`,
        role: 'regular',
        teams,
      });
      expect(created.status).toBe(201);
    }
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  const path = (url: string) => new URL(url).pathname;

  async function createDatabase(e: EngineCase, name: string) {
    const created = await http.post('/api/database/', { name, plan: e.plan, environment: 1 });
    expect(created.status).toBe(201);
    const credential = await http.get(path(created.body.credentials[0]._links.self));
    return {
      id: created.body.id as number,
      user: credential.body.user as string,
      password: credential.body.password as string,
    };
  }

  const login = (e: EngineCase, name: string, user: string, password: string) =>
    e.data(e.server(stack).port, name, user, password);

  async function withSession<T>(
    e: EngineCase,
    name: string,
    owner: { user: string; password: string },
    work: (session: DataSession) => Promise<T>,
  ): Promise<T> {
    const session = await login(e, name, owner.user, owner.password);
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  /** POST …/backup/ → 202 with Location; waits until the backup is ready. */
  async function backUp(databaseId: number): Promise<Answer> {
    const started = await http.post(`/api/database/${databaseId}/backup/`);
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(started.body._links.self);
    expect(started.body).toMatchObject({ status: 'running', kind: 'manual', sha256: null });
    const url = path(started.body._links.self);
    await until(async () => (await http.get(url)).body.status !== 'running', 60_000);
    const finished = await http.get(url);
    expect(finished.body).toMatchObject({ status: 'ready', error: null });
    return finished;
  }

  /** POST …/restore/ → 202 with the task; waits for the task's end and returns it. */
  async function restore(backupId: number): Promise<Answer> {
    const started = await http.post(`/api/backup/${backupId}/restore/`);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ type: 'restore_backup' });
    expect(started.headers.get('location')).toBe(started.body._links.self);
    const url = path(started.body._links.self);
    await until(
      async () => ['success', 'error'].includes((await http.get(url)).body.status),
      60_000,
    );
    return http.get(url);
  }

  const fileOf = async (backupId: number) => {
    const [row] = await stack.metadata<{ file_key: string }>(
      'SELECT file_key FROM backup WHERE id = $1',
      [backupId],
    );
    return join(backupDir, row.file_key);
  };

  describe.each(ENGINES)('$engine', (e) => {
    const name = `bk_${e.engine}`;
    let database: { id: number; user: string; password: string };
    let original: Record<string, string>;
    let backupId: number;

    it('backs up, then restores exactly the data of the backup in place; the credential logs in with the same password', async () => {
      database = await createDatabase(e, name);
      original = await withSession(e, name, database, async (s) => {
        await s.seed();
        return s.checksum();
      });
      expect(Object.keys(original).length).toBeGreaterThan(1);

      const backup = await backUp(database.id);
      backupId = backup.body.id;
      expect(backup.body).toMatchObject({
        database: `${stack.api.baseUrl}/api/database/${database.id}/`,
        database_name: name,
        engine: e.engine,
        kind: 'manual',
        expires_at: null,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        size_in_bytes: expect.any(Number),
        finished_at: expect.any(String),
        task: expect.stringMatching(/\/api\/task\/\d+\/$/),
      });
      expect(readFileSync(await fileOf(backupId)).length).toBe(backup.body.size_in_bytes);
      const task = await http.get(path(backup.body.task));
      expect(task.body).toMatchObject({ type: 'backup_database', status: 'success' });

      const changed = await withSession(e, name, database, async (s) => {
        await s.mutate();
        return s.checksum();
      });
      expect(changed).not.toEqual(original);

      // A session open during the restore is ended (PostgreSQL, MariaDB).
      const open = await login(e, name, database.user, database.password);
      try {
        const done = await restore(backupId);
        expect(done.body).toMatchObject({ status: 'success', error: null });
        if (e.endsSessions) await expect(open.ping()).rejects.toThrow();
      } finally {
        await open.close();
      }

      expect((await http.get(`/api/database/${database.id}/`)).body.status).toBe('ready');
      // Logs in with the same password and reads exactly the original data.
      expect(await withSession(e, name, database, (s) => s.checksum())).toEqual(original);
      const credential = await http.get(`/api/credential/?database=${database.id}`);
      expect((await http.get(path(credential.body.credential[0]._links.self))).body.password).toBe(
        database.password,
      );
    }, 180_000);

    it('refuses a tampered file: the restore fails with a clear error and the database is unchanged', async () => {
      const changed = await withSession(e, name, database, async (s) => {
        await s.mutate();
        return s.checksum();
      });
      const file = await fileOf(backupId);
      const bytes = readFileSync(file);
      const untouched = Buffer.from(bytes);
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      writeFileSync(file, bytes);
      try {
        const done = await restore(backupId);
        expect(done.body.status).toBe('error');
        expect(done.body.error).toMatch(
          // PostgreSQL: one transaction, cut by the bad chunk; the others check the file first.
          /The restore (did not start|failed; the database is unchanged): .*(corrupt|tampered|SHA-256|authenticat)/i,
        );
        expect((await http.get(`/api/database/${database.id}/`)).body.status).toBe('ready');
        expect(await withSession(e, name, database, (s) => s.checksum())).toEqual(changed);
      } finally {
        writeFileSync(file, untouched);
      }
    }, 120_000);

    it("is 404 for another team's regular user, visible to the team's", async () => {
      const outsider = http.as('outsider:outsider-pass-1');
      expectProblem(await outsider.get(`/api/backup/${backupId}/`), 404);
      expectProblem(await outsider.post(`/api/backup/${backupId}/restore/`), 404);
      expectProblem(await outsider.delete(`/api/backup/${backupId}/`), 404);
      expectProblem(await outsider.post(`/api/database/${database.id}/backup/`), 404);
      expect((await outsider.get('/api/backup/')).body._links.count).toBe(0);
      const member = http.as('member:member-pass-1');
      expect((await member.get(`/api/backup/${backupId}/`)).body.id).toBe(backupId);
      const listed = await member.get(
        `/api/backup/?database=${database.id}&status=ready&kind=manual`,
      );
      expect(listed.body.backup.map((b: { id: number }) => b.id)).toContain(backupId);
    });

    // The stack's PostgreSQL server also holds the metadata store: stopping it stops the API's
    // store too, so this case runs on MariaDB and Redis (the check before any write is the
    // same code for every engine: BackupsService.start / restore ping first).
    const downCase = e.engine === 'postgresql' ? it.skip : it;
    if (e.engine === 'postgresql')
      console.log('503 case not run on PostgreSQL: its server holds the metadata store here');
    downCase(
      'answers 503 while the engine is down, and records nothing',
      async () => {
        const before = await stack.metadata('SELECT id FROM backup ORDER BY id');
        const tasksBefore = await stack.metadata('SELECT id FROM task ORDER BY id');
        await e.server(stack).stop();
        try {
          const down = await http.post(`/api/database/${database.id}/backup/`);
          expectProblem(down, 503);
          expect(down.text).not.toContain(e.server(stack).adminPassword);
          expectProblem(await http.post(`/api/backup/${backupId}/restore/`), 503);
          expect(await stack.metadata('SELECT id FROM backup ORDER BY id')).toEqual(before);
          expect(await stack.metadata('SELECT id FROM task ORDER BY id')).toEqual(tasksBefore);
          expect((await http.get(`/api/database/${database.id}/`)).body.status).toBe('ready');
        } finally {
          await e.server(stack).start();
        }
      },
      60_000,
    );

    it('deletes a backup: 204, the file and the row are gone', async () => {
      const extra = await backUp(database.id);
      const file = await fileOf(extra.body.id);
      expect((await http.delete(`/api/backup/${extra.body.id}/`)).status).toBe(204);
      expectProblem(await http.get(`/api/backup/${extra.body.id}/`), 404);
      expect(() => readFileSync(file)).toThrow(/ENOENT/);
      const [task] = await stack.metadata<{ status: string }>(
        `SELECT status FROM task WHERE type = 'delete_backup' ORDER BY id DESC LIMIT 1`,
      );
      expect(task.status).toBe('success');
    }, 60_000);

    it('refuses a backup or a restore of a quarantined database (409), and takes nothing', async () => {
      expect((await http.delete(`/api/database/${database.id}/`)).status).toBe(204);
      const before = await stack.metadata('SELECT id FROM backup ORDER BY id');
      expectProblem(await http.post(`/api/database/${database.id}/backup/`), 409);
      expectProblem(await http.post(`/api/backup/${backupId}/restore/`), 409);
      expect(await stack.metadata('SELECT id FROM backup ORDER BY id')).toEqual(before);
      expect((await http.get(`/api/database/${database.id}/`)).body.status).toBe('quarantined');
    }, 60_000);
  });

  it('replays a backup POST with the same Idempotency-Key: one backup, the same answer', async () => {
    const made = await createDatabase(ENGINES[0], 'bk_idempotent');
    const headers = { 'idempotency-key': 'backup-once-1' };
    const first = await http.post(`/api/database/${made.id}/backup/`, undefined, { headers });
    const again = await http.post(`/api/database/${made.id}/backup/`, undefined, { headers });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(again.body.id).toBe(first.body.id);
    const rows = await stack.metadata('SELECT id FROM backup WHERE database_id = $1', [made.id]);
    expect(rows).toHaveLength(1);
  }, 60_000);

  it('works from the CLI: backup, backups list, restore --yes, backups delete', async () => {
    const cli = (args: string[]) =>
      runNode(CLI_MAIN, args, { ...apiLoginEnv(stack.api.baseUrl), HOME: backupDir }, 120_000);
    const made = await createDatabase(ENGINES[0], 'bk_cli');
    const taken = await cli(['backup', String(made.id), '--json']);
    expect([taken.code, taken.stderr]).toEqual([0, expect.any(String)]);
    const backup = JSON.parse(taken.stdout);
    expect(backup).toMatchObject({ status: 'ready', database_name: 'bk_cli' });
    const listed = await cli(['backups', 'list', '--database', 'bk_cli', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.stringify(JSON.parse(listed.stdout))).toContain(`/api/backup/${backup.id}/`);
    const restored = await cli(['restore', String(backup.id), '--yes', '--json']);
    expect([restored.code, JSON.parse(restored.stdout)]).toEqual([
      0,
      expect.objectContaining({ type: 'restore_backup', status: 'success' }),
    ]);
    expect((await cli(['backups', 'delete', String(backup.id)])).code).toBe(0);
    expectProblem(await http.get(`/api/backup/${backup.id}/`), 404);
  }, 120_000);

  it('lists backups with filters and pages, and documents the routes in OpenAPI', async () => {
    const all = await http.get('/api/backup/?page_size=2');
    expect(all.status).toBe(200);
    expect(all.body._links.count).toBeGreaterThanOrEqual(3);
    expect(all.body.backup).toHaveLength(2);
    expectProblem(await http.get('/api/backup/?status=lost'), 400);
    expectProblem(await http.get('/api/backup/?kind=weekly'), 400);
    const docs = await http.get('/api/docs-json');
    for (const route of [
      '/api/backup/',
      '/api/backup/{id}/',
      '/api/backup/{id}/restore/',
      '/api/database/{id}/backup/',
    ]) {
      const documented = Object.keys(docs.body.paths).some((p) => p.replace(/\/?$/, '/') === route);
      expect({ route, documented }).toEqual({ route, documented: true });
    }
  });
});
