import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EngineProvider,
  InfraTarget,
  MysqlProvider,
  PostgresqlProvider,
  RedisProvider,
} from '@dbaas/engines';
import Redis from 'ioredis';
import {
  Login,
  mysqlLogin,
  postgresLogin,
  redisLogin,
  UserSession,
} from '../engines/engine-sessions';
import { EngineServer } from '../harness';
import { ApiProcess } from './support/api-process';
import { HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

/**
 * Clones and `from_backup` on real PostgreSQL, MariaDB and Redis servers (SPEC §9): data
 * written with the engine's own client through the issued credential comes out the same
 * in the new database (checksums), the new database has its own owner and nothing of the
 * source's logins, writes do not cross; a failed fill (a corrupt backup) and a process
 * killed mid-clone leave nothing behind.
 *
 * Backups are taken through the API (`POST /api/database/{id}/backup/`); the corrupt one is
 * its file changed on disk (DBAAS_BACKUP_DIR).
 */

interface EngineCase {
  engine: 'postgresql' | 'mysql' | 'redis';
  tag: string;
  plan: number;
  server: (stack: TestStack) => EngineServer;
  login: (host: string, port: number) => Login;
  provider: () => EngineProvider;
  /** The engine's refusal when the source's owner tries the clone. */
  sourceRefused: RegExp;
}

const ENGINES: EngineCase[] = [
  {
    engine: 'postgresql',
    tag: 'pg',
    plan: 1,
    server: (s) => s.pg,
    login: postgresLogin,
    provider: () => new PostgresqlProvider(),
    // The role exists on the server, but has no CONNECT on the clone.
    sourceRefused: /permission denied for database "?\w+"?/,
  },
  {
    engine: 'mysql',
    tag: 'my',
    plan: 2,
    server: (s) => s.mariadb!,
    login: mysqlLogin,
    provider: () => new MysqlProvider(),
    sourceRefused: /Access denied for user '[^']+'@'[^']+' to database/,
  },
  {
    engine: 'redis',
    tag: 'rd',
    plan: 4,
    server: (s) => s.redis!,
    login: redisLogin,
    provider: () => new RedisProvider(),
    // Redis logins are server-wide: the source's user is confined to its own prefix.
    sourceRefused: /NOPERM/,
  },
];

interface Who {
  user: string;
  password: string;
}

const KEYS = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);

describe('clone and from_backup on PostgreSQL, MariaDB and Redis (e2e)', () => {
  let stack: TestStack;
  let api: ApiProcess;
  let http: HttpClient;
  let backupDir: string;
  const providers = new Map<string, EngineProvider>();

  const targetOf = (e: EngineCase): InfraTarget => {
    const server = e.server(stack);
    return {
      id: 1,
      addresses: [server.address],
      adminUser: server.adminUser,
      adminPassword: server.adminPassword,
    };
  };
  const providerOf = (e: EngineCase): EngineProvider => {
    if (!providers.has(e.engine)) providers.set(e.engine, e.provider());
    return providers.get(e.engine)!;
  };
  const login = (e: EngineCase, database: string, who: Who) =>
    e.login('127.0.0.1', e.server(stack).port)(database, who.user, who.password);

  async function ownerOf(body: { credentials: { id: number; user: string }[] }): Promise<Who> {
    const [owner] = body.credentials;
    const detail = await http.get(`/api/credential/${owner.id}/`);
    expect(detail.status).toBe(200);
    return { user: owner.user, password: detail.body.password };
  }

  /** A ready database with KEYS written by its owner; returns its id, owner and data. */
  async function sourceWithData(e: EngineCase, name: string) {
    const created = await http.post('/api/database/', { name, plan: e.plan, environment: 1 });
    expect(created.status).toBe(201);
    const owner = await ownerOf(created.body);
    const session = await login(e, name, owner);
    const data = new Map(KEYS.map((k) => [k, randomBytes(24).toString('base64')]));
    try {
      await session.init();
      for (const [k, v] of data) await session.write(k, v);
    } finally {
      await session.close();
    }
    return { id: created.body.id as number, owner, checksum: checksumOf(data) };
  }

  function checksumOf(data: Map<string, string | null>): string {
    const hash = createHash('sha256');
    for (const k of KEYS) hash.update(`${k}=${data.get(k)}\n`);
    return hash.digest('hex');
  }

  async function checksumIn(session: UserSession): Promise<string> {
    const data = new Map<string, string | null>();
    for (const k of KEYS) data.set(k, await session.read(k));
    return checksumOf(data);
  }

  async function readChecksum(e: EngineCase, database: string, who: Who): Promise<string> {
    const session = await login(e, database, who);
    try {
      return await checksumIn(session);
    } finally {
      await session.close();
    }
  }

  /** Waits for the database at `location` to leave `creating`; returns its detail. */
  async function settled(url: string) {
    const location = new URL(url).pathname;
    let detail = await http.get(location);
    await until(async () => {
      detail = await http.get(location);
      return detail.status !== 200 || detail.body.status !== 'creating';
    }, 60_000);
    return detail;
  }

  async function taskOf(absolute: string) {
    const url = new URL(absolute).pathname;
    let task = await http.get(url);
    await until(async () => {
      task = await http.get(url);
      return task.body.status === 'success' || task.body.status === 'error';
    }, 60_000);
    return task.body as { type: string; status: string; error: string | null; origin: string };
  }

  /** A manual backup through the API (POST /api/database/{id}/backup/), once `ready`. */
  async function backupOf(databaseId: number): Promise<number> {
    const answer = await http.post(`/api/database/${databaseId}/backup/`);
    expect(answer.status).toBe(202);
    const path = new URL(answer.headers.get('location')!).pathname;
    let backup = await http.get(path);
    await until(async () => {
      backup = await http.get(path);
      return backup.body.status !== 'running';
    }, 60_000);
    expect(backup.body).toMatchObject({ status: 'ready', error: null });
    return backup.body.id as number;
  }

  /** Gone for good: no row, no credential row, no database and no owner on the engine. */
  async function goneEverywhere(e: EngineCase, name: string): Promise<void> {
    expect(await stack.metadata('SELECT 1 FROM database WHERE name = $1', [name])).toEqual([]);
    expect(
      await stack.metadata('SELECT 1 FROM credential WHERE "user" = $1', [`u_${name}`]),
    ).toEqual([]);
    expect(await providerOf(e).databaseExists(targetOf(e), name)).toBe(false);
    expect(await providerOf(e).listUsers(targetOf(e))).not.toContain(`u_${name}`);
  }

  beforeAll(async () => {
    backupDir = await mkdtemp(join(process.env.TMPDIR ?? tmpdir(), 'clone-e2e-'));
    stack = await startStack({
      engines: true,
      sampleDatabases: false,
      env: { DBAAS_RECONCILE_INTERVAL_SECONDS: '1', DBAAS_BACKUP_DIR: backupDir },
    });
    api = stack.api;
    http = stack.http;
  }, 180_000);

  afterAll(async () => {
    if (process.env.SHOW_API_LOGS) console.log(api?.logs);
    await api?.stop();
    await Promise.all([...providers.values()].map((p) => p.close()));
    await stack?.stop();
    if (backupDir) await rm(backupDir, { recursive: true, force: true });
  });

  describe.each(ENGINES)('$engine', (e) => {
    it("clones a live database: the clone's owner reads the same data, writes do not cross, the source's owner cannot get in", async () => {
      const source = await sourceWithData(e, `src_${e.tag}`);

      const answer = await http.post(`/api/database/${source.id}/clone/`, { name: `cl ${e.tag}` });

      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ name: `cl_${e.tag}`, status: 'creating' });
      expect(answer.headers.get('location')).toBe(answer.body._links.self);
      expect(answer.body.task).toMatch(/\/api\/task\/\d+\/$/);
      // The task first: if it failed, its error says why.
      expect(await taskOf(answer.body.task)).toMatchObject({
        type: 'clone_database',
        status: 'success',
        error: null,
        origin: `clone of database ${source.id} (src_${e.tag})`,
      });
      const detail = await settled(answer.headers.get('location')!);
      expect(detail.body).toMatchObject({
        status: 'ready',
        credentials: [{ user: `u_cl_${e.tag}` }],
        plan: expect.stringMatching(new RegExp(`/api/plan/${e.plan}/$`)),
      });
      const cloneOwner = await ownerOf(detail.body);
      expect(cloneOwner.password).not.toBe(source.owner.password);

      // The same data, read by the clone's own owner.
      expect(await readChecksum(e, `cl_${e.tag}`, cloneOwner)).toBe(source.checksum);

      // Writes do not cross, either way.
      const inClone = await login(e, `cl_${e.tag}`, cloneOwner);
      const inSource = await login(e, `src_${e.tag}`, source.owner);
      try {
        await inClone.write('only_clone', 'c');
        await inClone.write(KEYS[0], 'changed in the clone');
        await inSource.write('only_source', 's');
        expect(await inSource.read('only_clone')).toBeNull();
        expect(await inClone.read('only_source')).toBeNull();
        expect(await checksumIn(inSource)).toBe(source.checksum);
        expect(await inClone.read(KEYS[0])).toBe('changed in the clone');
      } finally {
        await inClone.close();
        await inSource.close();
      }

      // The source's owner cannot log in to (Redis: reach the keys of) the clone.
      await expect(readChecksum(e, `cl_${e.tag}`, source.owner)).rejects.toThrow(e.sourceRefused);
    });

    it('from_backup after a hard delete brings the data back under a new name', async () => {
      const source = await sourceWithData(e, `gone_${e.tag}`);
      const backupId = await backupOf(source.id);
      expect((await http.delete(`/api/database/${source.id}/`)).status).toBe(204);
      expect((await http.delete(`/api/database/${source.id}/`)).status).toBe(204);
      expect((await http.get(`/api/database/${source.id}/`)).status).toBe(404);
      await goneEverywhere(e, `gone_${e.tag}`);

      const body = {
        name: `back_${e.tag}`,
        from_backup: `${http.baseUrl}/api/backup/${backupId}/`,
      };
      const key = { headers: { 'idempotency-key': `from-backup-${e.tag}` } };
      const answer = await http.post('/api/database/', body, key);

      expect(answer.status).toBe(202);
      // A retry with the same Idempotency-Key replays the 202, and makes nothing more.
      const replay = await http.post('/api/database/', body, key);
      expect(replay.status).toBe(202);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.headers.get('location')).toBe(answer.headers.get('location'));
      expect(replay.body.id).toBe(answer.body.id);
      expect(answer.body).toMatchObject({ name: `back_${e.tag}`, status: 'creating' });
      const detail = await settled(answer.headers.get('location')!);
      expect(detail.body).toMatchObject({
        status: 'ready',
        environment: expect.stringMatching(/\/api\/environment\/1\/$/),
        plan: expect.stringMatching(new RegExp(`/api/plan/${e.plan}/$`)),
      });
      expect(await taskOf(answer.body.task)).toMatchObject({
        type: 'clone_database',
        status: 'success',
        origin: `from backup ${backupId} (gone_${e.tag})`,
      });
      const owner = await ownerOf(detail.body);
      expect(await readChecksum(e, `back_${e.tag}`, owner)).toBe(source.checksum);
      // The old owner is gone with the old database.
      await expect(readChecksum(e, `back_${e.tag}`, source.owner)).rejects.toThrow();
    });
  });

  it('keeps the TTLs of Redis keys in a clone (the prefix rewritten)', async () => {
    const e = ENGINES[2];
    const source = await sourceWithData(e, 'ttl_rd');
    const admin = new Redis({
      host: '127.0.0.1',
      port: e.server(stack).port,
      username: e.server(stack).adminUser,
      password: e.server(stack).adminPassword,
    });
    try {
      await admin.pexpire(`ttl_rd:${KEYS[1]}`, 600_000);
      const answer = await http.post(`/api/database/${source.id}/clone/`, { name: 'ttl_rd_copy' });
      expect(answer.status).toBe(202);
      expect((await settled(answer.headers.get('location')!)).body.status).toBe('ready');
      const ttl = await admin.pttl(`ttl_rd_copy:${KEYS[1]}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(600_000);
      expect(await admin.pttl(`ttl_rd_copy:${KEYS[2]}`)).toBe(-1);
      expect(await admin.keys('ttl_rd_copy:*')).toHaveLength(KEYS.length);
    } finally {
      admin.disconnect();
    }
  });

  it('refuses what a create refuses, and a source or backup that is not ready, with nothing made', async () => {
    const [pg, my] = ENGINES;
    const source = await sourceWithData(pg, 'rules_pg');
    const before = await stack.metadata('SELECT count(*)::int AS n FROM database');
    const clone = (body: unknown, id = source.id) => http.post(`/api/database/${id}/clone/`, body);

    const otherEngine = await clone({ name: 'rules_other', plan: my.plan });
    expect(otherEngine.status).toBe(400);
    expect(otherEngine.body.errors).toEqual({
      plan: ["must be a plan of the source database's engine (postgresql)"],
    });
    expect((await clone({ name: 'rules_pg' })).status).toBe(409);
    expect((await clone({ name: '9 lives' })).status).toBe(400);
    expect((await clone({})).status).toBe(400);
    expect((await clone({ name: 'rules_x', unknown: 1 })).status).toBe(400);
    expect((await clone({ name: 'rules_x' }, 999_999)).status).toBe(404);
    // A regular user of another team sees neither the database nor its backups.
    const user = http.as('user:123456');
    expect((await user.post(`/api/database/${source.id}/clone/`, { name: 'rules_x' })).status).toBe(
      404,
    );
    const backupId = await backupOf(source.id);
    const fromBackup = (body: object, as = http) =>
      as.post('/api/database/', { name: 'rules_back', ...body });
    expect((await fromBackup({ from_backup: backupId }, user)).status).toBe(404);
    expect((await fromBackup({ from_backup: 999_999 })).status).toBe(404);
    expect((await fromBackup({ from_backup: '/api/plan/1/' })).status).toBe(400);
    const wrongEngine = await fromBackup({ from_backup: backupId, plan: my.plan });
    expect(wrongEngine.status).toBe(400);
    expect(wrongEngine.body.errors).toEqual({
      plan: ["must be a plan of the backup's engine (postgresql)"],
    });
    // The team's quota (database_limit) holds for clones and from_backup as for a create.
    await stack.metadata(
      'UPDATE team SET database_limit = (SELECT count(*) FROM database WHERE team_id = team.id) WHERE id = 1',
    );
    for (const overQuota of [
      await clone({ name: 'rules_quota' }),
      await fromBackup({ from_backup: backupId }),
    ]) {
      expect(overQuota.status).toBe(409);
      expect(overQuota.body.type).toMatch(/quota-exceeded$/);
    }
    await stack.metadata('UPDATE team SET database_limit = 0 WHERE id = 1');
    await stack.metadata("UPDATE backup SET status = 'failed' WHERE id = $1", [backupId]);
    expect((await fromBackup({ from_backup: backupId })).status).toBe(409);
    // Without from_backup, plan and environment are still required.
    expect((await fromBackup({})).status).toBe(400);
    // No room on the infra: 503, as for a create.
    const infraOf = "(SELECT infra_id FROM database WHERE name = 'rules_pg')";
    const [{ capacity }] = await stack.metadata<{ capacity: number }>(
      `SELECT capacity FROM infra WHERE id = ${infraOf}`,
    );
    await stack.metadata(
      `UPDATE infra SET capacity = (SELECT count(*) FROM database WHERE infra_id = infra.id) WHERE id = ${infraOf}`,
    );
    const full = await clone({ name: 'rules_full' });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
    await stack.metadata(`UPDATE infra SET capacity = $1 WHERE id = ${infraOf}`, [capacity]);
    // A quarantined source takes no clone.
    expect((await http.delete(`/api/database/${source.id}/`)).status).toBe(204);
    const quarantined = await clone({ name: 'rules_x' });
    expect(quarantined.status).toBe(409);
    expect(quarantined.body.detail).toMatch(/quarantined: only a ready database can be cloned/);

    expect(await stack.metadata('SELECT count(*)::int AS n FROM database')).toEqual(before);
  });

  it('a corrupt backup fails the task with the reason and rolls the new database back completely', async () => {
    const e = ENGINES[0];
    const source = await sourceWithData(e, 'bad_pg');
    const backupId = await backupOf(source.id);
    const [{ file_key }] = await stack.metadata<{ file_key: string }>(
      'SELECT file_key FROM backup WHERE id = $1',
      [backupId],
    );
    const path = join(backupDir, file_key);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await writeFile(path, bytes);

    const answer = await http.post('/api/database/', { name: 'bad_copy', from_backup: backupId });

    expect(answer.status).toBe(202);
    const task = await taskOf(answer.body.task);
    expect(task).toMatchObject({ type: 'clone_database', status: 'error' });
    expect(task.error).toMatch(
      /^Restoring backup \d+ into bad_copy failed \(the backup file is corrupt: .+\); the new database was rolled back\.$/,
    );
    expect((await http.get(new URL(answer.headers.get('location')!).pathname)).status).toBe(404);
    await goneEverywhere(e, 'bad_copy');
    // The source is untouched, and the name is free again.
    expect(await readChecksum(e, 'bad_pg', source.owner)).toBe(source.checksum);
    const again = await http.post(`/api/database/${source.id}/clone/`, { name: 'bad_copy' });
    expect(again.status).toBe(202);
    expect((await settled(again.headers.get('location')!)).body.status).toBe('ready');
  });

  describe.each(ENGINES)('a process killed mid-clone on $engine', (e) => {
    it('leaves a `creating` row that the reconciler destroys (database, owner, records)', async () => {
      const source = await sourceWithData(e, `kill_src_${e.tag}`);
      const name = `kill_${e.tag}`;
      await api.stop();
      api = await ApiProcess.start({
        ...stack.api.env,
        DBAAS_TEST_FAULT: `database-filled@${name}`,
      });
      http = new HttpClient(api.baseUrl);
      const died = api.exited();

      // The 202 may or may not get out before the process dies right after the copy.
      await http.post(`/api/database/${source.id}/clone/`, { name }).catch(() => undefined);

      expect(await died).toBeNull(); // killed by a signal
      expect(await stack.metadata('SELECT status FROM database WHERE name = $1', [name])).toEqual([
        { status: 'creating' },
      ]);
      // The data was copied when it died: the database is there on the engine.
      expect(await providerOf(e).databaseExists(targetOf(e), name)).toBe(true);

      api = await ApiProcess.start(stack.api.env);
      http = new HttpClient(api.baseUrl);
      const task = async () =>
        (
          await stack.metadata<{ status: string; error: string | null }>(
            "SELECT status, error FROM task WHERE type = 'clone_database' AND database_name = $1",
            [name],
          )
        )[0];
      await until(async () => (await task()).status !== 'running', 30_000);

      expect(await task()).toEqual({
        status: 'error',
        error: expect.stringMatching(/during the clone; the reconciler rolled it back/),
      });
      await goneEverywhere(e, name);
      expect(await readChecksum(e, `kill_src_${e.tag}`, source.owner)).toBe(source.checksum);
    }, 120_000);
  });
});
