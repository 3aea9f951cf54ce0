import { createHash, randomBytes } from 'node:crypto';
import {
  EngineProvider,
  InfraTarget,
  MysqlProvider,
  PostgresqlProvider,
  RedisProvider,
} from '@dbaas/engines';
import { Client } from 'pg';
import { Login, mysqlLogin, postgresLogin, redisLogin } from '../engines/engine-sessions';
import { EngineServer, startMariaDb, startPostgres, startRedis, targetOf } from '../harness';
import { ApiProcess } from './support/api-process';
import { expectProblem, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

/**
 * Plan change (SPEC §10) between two throwaway servers of each engine: the sample infra of
 * the engine (server A) serves the sample plan, an infra on a second server (B) serves a
 * new plan. A PATCH to the new plan moves the database from A to B: the data is the same
 * there (checksums), every credential logs in on B with its same password, and A has
 * neither the database nor the users any more. A failure mid-copy (fault point
 * `fail:move-copying`) and a SIGKILL mid-copy leave the database `ready` and complete on A,
 * and nothing on B; a SIGKILL after the switch is finished by the reconciler.
 *
 * The sample catalog (no sample databases): engines and plans 1 postgresql, 2 mysql,
 * 4 redis, served by infras 1, 2, 4 in environment 1 (dev).
 */

interface EngineCase {
  engine: 'postgresql' | 'mysql' | 'redis';
  tag: string;
  engineId: number;
  plan: number;
  infra: number;
  serverA: (stack: TestStack) => EngineServer;
  login: (host: string, port: number) => Login;
  provider: () => EngineProvider;
}

const ENGINES: EngineCase[] = [
  {
    engine: 'postgresql',
    tag: 'pg',
    engineId: 1,
    plan: 1,
    infra: 1,
    serverA: (s) => s.pg,
    login: postgresLogin,
    provider: () => new PostgresqlProvider(),
  },
  {
    engine: 'mysql',
    tag: 'my',
    engineId: 2,
    plan: 2,
    infra: 2,
    serverA: (s) => s.mariadb!,
    login: mysqlLogin,
    provider: () => new MysqlProvider(),
  },
  {
    engine: 'redis',
    tag: 'rd',
    engineId: 4,
    plan: 4,
    infra: 4,
    serverA: (s) => s.redis!,
    login: redisLogin,
    provider: () => new RedisProvider(),
  },
];

interface Who {
  user: string;
  password: string;
}

const KEYS = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);

describe('plan change: a move between two servers of PostgreSQL, MariaDB and Redis (e2e)', () => {
  let stack: TestStack;
  let api: ApiProcess;
  let http: HttpClient;
  const serversB = new Map<string, EngineServer>();
  /** The new plan of each engine, served by an infra on its server B only. */
  const bigPlan = new Map<string, number>();
  const providers = new Map<string, EngineProvider>();

  const providerOf = (e: EngineCase): EngineProvider => {
    if (!providers.has(e.engine)) providers.set(e.engine, e.provider());
    return providers.get(e.engine)!;
  };
  const serverB = (e: EngineCase) => serversB.get(e.engine)!;
  const target = (server: EngineServer): InfraTarget => targetOf(server);
  const planUrl = (plan: number) => `${api.baseUrl}/api/plan/${plan}/`;

  async function restartApi(fault?: string): Promise<void> {
    await api.stop();
    api = await ApiProcess.start({
      ...stack.api.env,
      ...(fault ? { DBAAS_TEST_FAULT: fault } : {}),
    });
    http = new HttpClient(api.baseUrl);
  }

  async function passwordOf(credential: number): Promise<string> {
    const detail = await http.get(`/api/credential/${credential}/`);
    expect(detail.status).toBe(200);
    return detail.body.password as string;
  }

  /**
   * A ready database of the engine's sample plan with its owner and a read-only
   * credential, and KEYS written by the owner; its id, logins and the data's checksum.
   */
  async function databaseWithData(e: EngineCase, name: string) {
    const created = await http.post('/api/database/', { name, plan: e.plan, environment: 1 });
    expect(created.status).toBe(201);
    const ownerCredential = created.body.credentials[0];
    const owner = { user: ownerCredential.user, password: await passwordOf(ownerCredential.id) };
    const reader = await http.post('/api/credential/', {
      user: `r_${name}`,
      database: created.body.id,
      privileges: 'read-only',
    });
    expect(reader.status).toBe(201);
    const readOnly = { user: reader.body.user, password: await passwordOf(reader.body.id) };
    const session = await e.login('127.0.0.1', e.serverA(stack).port)(
      name,
      owner.user,
      owner.password,
    );
    const data = new Map(KEYS.map((k) => [k, randomBytes(24).toString('base64')]));
    try {
      await session.init();
      for (const [k, v] of data) await session.write(k, v);
    } finally {
      await session.close();
    }
    return {
      id: created.body.id as number,
      logins: [owner, readOnly] as Who[],
      checksum: checksumOf(data),
    };
  }

  function checksumOf(data: Map<string, string | null>): string {
    const hash = createHash('sha256');
    for (const k of KEYS) hash.update(`${k}=${data.get(k)}\n`);
    return hash.digest('hex');
  }

  /** The checksum of KEYS as `who` reads them on `server`. */
  async function readChecksum(e: EngineCase, server: EngineServer, name: string, who: Who) {
    const session = await e.login('127.0.0.1', server.port)(name, who.user, who.password);
    try {
      const data = new Map<string, string | null>();
      for (const k of KEYS) data.set(k, await session.read(k));
      return checksumOf(data);
    } finally {
      await session.close();
    }
  }

  /** Neither the database nor any of the users on the server. */
  async function goneFrom(e: EngineCase, server: EngineServer, name: string, logins: Who[]) {
    expect(await providerOf(e).databaseExists(target(server), name)).toBe(false);
    const users = await providerOf(e).listUsers(target(server));
    for (const who of logins) expect(users).not.toContain(who.user);
  }

  async function taskOf(absolute: string) {
    const url = new URL(absolute).pathname;
    let task = await http.get(url);
    await until(async () => {
      task = await http.get(url);
      return task.body.status === 'success' || task.body.status === 'error';
    }, 90_000);
    return task.body as { type: string; status: string; error: string | null };
  }

  beforeAll(async () => {
    stack = await startStack({
      engines: true,
      sampleDatabases: false,
      env: { DBAAS_RECONCILE_INTERVAL_SECONDS: '1' },
    });
    api = stack.api;
    http = stack.http;
    const [pg, maria, redis] = await Promise.all([startPostgres(), startMariaDb(), startRedis()]);
    serversB.set('postgresql', pg);
    serversB.set('mysql', maria);
    serversB.set('redis', redis);
    for (const e of ENGINES) {
      const plan = await http.post('/api/plan/', {
        name: `${e.engine}-big`,
        engine: e.engineId,
        environments: [1],
      });
      expect(plan.status).toBe(201);
      bigPlan.set(e.engine, plan.body.id);
      const server = serverB(e);
      const infra = await http.post('/api/infra/', {
        name: `${e.engine}-b`,
        engine: e.engineId,
        plan: plan.body.id,
        environment: 1,
        addresses: [server.address],
        admin_user: server.adminUser,
        admin_password: server.adminPassword,
        capacity: 10,
      });
      expect(infra.status).toBe(201);
    }
  }, 240_000);

  afterAll(async () => {
    if (process.env.SHOW_API_LOGS) console.log(api?.logs);
    await api?.stop();
    await Promise.all([...providers.values()].map((p) => p.close()));
    await Promise.all([...serversB.values()].map((s) => s.destroy()));
    await stack?.stop();
  });

  describe('bad input: 400, nothing changed', () => {
    it('refuses a plan of another engine, an inactive plan, a plan not offered in the environment, an unknown plan', async () => {
      const db = await http.post('/api/database/', { name: 'bad_plans', plan: 1, environment: 1 });
      expect(db.status).toBe(201);
      const inactive = await http.post('/api/plan/', {
        name: 'pg-inactive',
        engine: 1,
        environments: [1],
      });
      expect(
        (await http.patch(`/api/plan/${inactive.body.id}/`, { is_active: false })).status,
      ).toBe(200);
      const elsewhere = await http.post('/api/plan/', {
        name: 'pg-prod-only',
        engine: 1,
        environments: [2],
      });
      expect(elsewhere.status).toBe(201);
      const cases: [number, RegExp][] = [
        [2, /engine/],
        [inactive.body.id, /not active/],
        [elsewhere.body.id, /not offered/],
        [9999, /no plan/],
      ];
      for (const [plan, message] of cases) {
        const answer = await http.patch(`/api/database/${db.body.id}/`, {
          plan,
          description: 'changed?',
        });
        expectProblem(answer, 400);
        expect(answer.body.errors.plan[0]).toMatch(message);
      }
      const after = await http.get(`/api/database/${db.body.id}/`);
      expect(after.body).toMatchObject({ plan: planUrl(1), description: '', status: 'ready' });
      expect(
        await stack.metadata("SELECT 1 FROM task WHERE type IN ('move_database', 'change_plan')"),
      ).toEqual([]);
    });
  });

  describe('a plan the infra serves: 200, limits at once', () => {
    it('changes the plan in place and puts its connection limit on the engine (PostgreSQL)', async () => {
      const limited = await http.post('/api/plan/', {
        name: 'pg-three-connections',
        engine: 1,
        environments: [1],
        max_connections: 3,
      });
      expect(limited.status).toBe(201);
      expect((await http.patch('/api/infra/1/', { plans: [1, limited.body.id] })).status).toBe(200);
      const db = await http.post('/api/database/', { name: 'in_place', plan: 1, environment: 1 });
      const answer = await http.patch(`/api/database/${db.body.id}/`, { plan: limited.body.id });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ plan: planUrl(limited.body.id), status: 'ready' });
      const admin = new Client({ connectionString: stack.pg.url });
      await admin.connect();
      try {
        const { rows } = await admin.query(
          'SELECT datconnlimit FROM pg_database WHERE datname = $1',
          ['in_place'],
        );
        expect(rows).toEqual([{ datconnlimit: 3 }]);
      } finally {
        await admin.end();
      }
      expect(await stack.metadata("SELECT status FROM task WHERE type = 'change_plan'")).toEqual([
        { status: 'success' },
      ]);
    });
  });

  describe('a plan the infra serves with a limit below the usage: enforced at once', () => {
    it('restricts writes as the PATCH answers, not at the next size check (PostgreSQL)', async () => {
      // The size check runs every 300 s here (the default): only the plan change can do it now.
      const tiny = await http.post('/api/plan/', {
        name: 'pg-one-kib',
        engine: 1,
        environments: [1],
        size_limit_in_bytes: 1024,
      });
      expect(tiny.status).toBe(201);
      const served = (await http.get('/api/infra/1/')).body.plans as string[];
      const plans = [...served.map((url) => Number(/(\d+)\/?$/.exec(url)![1])), tiny.body.id];
      expect((await http.patch('/api/infra/1/', { plans })).status).toBe(200);
      const db = await http.post('/api/database/', { name: 'shrunk', plan: 1, environment: 1 });
      expect(db.status).toBe(201);
      const owner = await passwordOf(db.body.credentials[0].id);
      const tenant = new Client({
        host: '127.0.0.1',
        port: stack.pg.port,
        database: 'shrunk',
        user: db.body.credentials[0].user,
        password: owner,
      });
      await tenant.connect();
      try {
        await tenant.query('CREATE TABLE kv (k text, v text)');
        await tenant.query(
          "INSERT INTO kv SELECT g::text, repeat('x', 100) FROM generate_series(1, 1000) g",
        );
      } finally {
        await tenant.end();
      }

      const answer = await http.patch(`/api/database/${db.body.id}/`, { plan: tiny.body.id });

      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ plan: planUrl(tiny.body.id), over_size_limit: true });
      const again = new Client({
        host: '127.0.0.1',
        port: stack.pg.port,
        database: 'shrunk',
        user: db.body.credentials[0].user,
        password: owner,
      });
      await again.connect();
      try {
        await expect(again.query("INSERT INTO kv VALUES ('more', 'x')")).rejects.toMatchObject({
          code: '42501',
        });
        expect((await again.query("DELETE FROM kv WHERE k = '1'")).rowCount).toBe(1);
      } finally {
        await again.end();
      }
    });
  });

  describe.each(ENGINES)('$engine: another server', (e) => {
    it('moves: 202 + task, the same data and passwords on the new server, nothing left on the old one', async () => {
      const name = `mv_${e.tag}`;
      const db = await databaseWithData(e, name);
      const plan = bigPlan.get(e.engine)!;

      const answer = await http.patch(`/api/database/${db.id}/`, { plan, description: 'moved' });

      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ status: 'moving', description: 'moved' });
      expect(answer.headers.get('location')).toBe(answer.body._links.self);
      expect(await taskOf(answer.body.task)).toMatchObject({
        type: 'move_database',
        status: 'success',
        error: null,
      });
      const detail = await http.get(`/api/database/${db.id}/`);
      expect(detail.body).toMatchObject({ status: 'ready', plan: planUrl(plan) });
      expect(detail.body.endpoint).toContain(`:${serverB(e).port}`);
      for (const who of db.logins)
        expect(await readChecksum(e, serverB(e), name, who)).toBe(db.checksum);
      await goneFrom(e, e.serverA(stack), name, db.logins);
      // The passwords shown are the same as before the move.
      const shown = await Promise.all(
        (detail.body.credentials as { id: number }[]).map((c) => passwordOf(c.id)),
      );
      expect(shown.sort()).toEqual(db.logins.map((w) => w.password).sort());
    });

    it('a failure mid-copy leaves the database ready and complete where it was, nothing on the new server', async () => {
      const name = `fl_${e.tag}`;
      await restartApi(`fail:move-copying@${name}`);
      const db = await databaseWithData(e, name);

      const answer = await http.patch(`/api/database/${db.id}/`, {
        plan: bigPlan.get(e.engine)!,
      });

      expect(answer.status).toBe(202);
      const task = await taskOf(answer.body.task);
      expect(task).toMatchObject({ type: 'move_database', status: 'error' });
      expect(task.error).toMatch(/move was rolled back; the database stays where it was/);
      const detail = await http.get(`/api/database/${db.id}/`);
      expect(detail.body).toMatchObject({ status: 'ready', plan: planUrl(e.plan) });
      expect(detail.body.endpoint).toContain(`:${e.serverA(stack).port}`);
      // Every login works again on the old server, with the same password, on the same data.
      for (const who of db.logins)
        expect(await readChecksum(e, e.serverA(stack), name, who)).toBe(db.checksum);
      await goneFrom(e, serverB(e), name, db.logins);
      expect(
        await stack.metadata('SELECT DISTINCT infra_id FROM credential WHERE database_id = $1', [
          db.id,
        ]),
      ).toEqual([{ infra_id: e.infra }]);
    });

    it('a SIGKILL mid-copy: the reconciler rolls the move back, the database ready where it was', async () => {
      const name = `kl_${e.tag}`;
      await restartApi(`move-copying@${name}`);
      const db = await databaseWithData(e, name);
      const died = api.exited();

      // The 202 may or may not get out before the process dies on the copy's first chunk.
      await http
        .patch(`/api/database/${db.id}/`, { plan: bigPlan.get(e.engine)! })
        .catch(() => undefined);

      expect(await died).toBeNull(); // killed by a signal
      expect(await stack.metadata('SELECT status FROM database WHERE id = $1', [db.id])).toEqual([
        { status: 'moving' },
      ]);
      await restartApi();
      await until(async () => {
        const [row] = await stack.metadata<{ status: string }>(
          'SELECT status FROM database WHERE id = $1',
          [db.id],
        );
        return row.status === 'ready';
      }, 60_000);
      const detail = await http.get(`/api/database/${db.id}/`);
      expect(detail.body).toMatchObject({ status: 'ready', plan: planUrl(e.plan) });
      for (const who of db.logins)
        expect(await readChecksum(e, e.serverA(stack), name, who)).toBe(db.checksum);
      await goneFrom(e, serverB(e), name, db.logins);
      await until(async () => {
        const [task] = await stack.metadata<{ status: string }>(
          "SELECT status FROM task WHERE type = 'move_database' AND database_id = $1",
          [db.id],
        );
        return task.status === 'error';
      }, 30_000);
    });
  });

  it('a SIGKILL after the switch: the reconciler finishes the move (PostgreSQL)', async () => {
    const e = ENGINES[0];
    const name = 'sw_pg';
    await restartApi(`move-switched@${name}`);
    const db = await databaseWithData(e, name);
    const died = api.exited();

    await http
      .patch(`/api/database/${db.id}/`, { plan: bigPlan.get(e.engine)! })
      .catch(() => undefined);

    expect(await died).toBeNull();
    await restartApi();
    await until(async () => {
      const [row] = await stack.metadata<{ status: string }>(
        'SELECT status FROM database WHERE id = $1',
        [db.id],
      );
      return row.status === 'ready';
    }, 60_000);
    const detail = await http.get(`/api/database/${db.id}/`);
    expect(detail.body).toMatchObject({ status: 'ready', plan: planUrl(bigPlan.get(e.engine)!) });
    for (const who of db.logins)
      expect(await readChecksum(e, serverB(e), name, who)).toBe(db.checksum);
    await goneFrom(e, e.serverA(stack), name, db.logins);
  });
});
