import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { EngineServer } from '../harness';
import { Login, mysqlLogin, postgresLogin, redisLogin } from '../engines/engine-sessions';
import { expectProblem, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

/**
 * Drift repair (SPEC §11) over the real API process, with the reconciler every second:
 * credentials deleted by hand on their engine come back with the password the API handed
 * out; a database dropped by hand shows `lost`, comes back `ready` when it reappears, goes
 * back to `lost` after an interrupted quarantine, and can still be deleted.
 */
describe('drift repair (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;

  beforeAll(async () => {
    stack = await startStack({
      engines: true,
      env: { DBAAS_RECONCILE_INTERVAL_SECONDS: '1' },
    });
    http = stack.http;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  /** Runs statements as the engine's admin (what an operator's slip of the hand does). */
  async function asPostgresAdmin(...statements: string[]): Promise<void> {
    const client = new Client({ connectionString: stack.pg.url });
    await client.connect();
    try {
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.end();
    }
  }

  async function create(name: string, plan: number) {
    const created = await http.post('/api/database/', { name, plan, environment: 1 });
    expect(created.status).toBe(201);
    const credential = await http.get(new URL(created.body.credentials[0]._links.self).pathname);
    expect(credential.status).toBe(200);
    return {
      path: new URL(created.body._links.self).pathname,
      id: created.body.id as number,
      user: credential.body.user as string,
      password: credential.body.password as string,
    };
  }

  /** Whether the user logs in on the database with that password (and the session answers). */
  async function logsIn(login: Login, database: string, user: string, password: string) {
    try {
      const session = await login(database, user, password);
      try {
        await session.ping();
        return true;
      } finally {
        await session.close();
      }
    } catch {
      return false;
    }
  }

  describe.each([
    {
      engine: 'postgresql',
      plan: 1,
      server: (s: TestStack): EngineServer => s.pg,
      login: postgresLogin,
      dropUser: (user: string) =>
        asPostgresAdmin(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${user}'`,
          `DROP ROLE "${user}"`,
        ),
    },
    {
      engine: 'mysql',
      plan: 2,
      server: (s: TestStack): EngineServer => s.mariadb!,
      login: mysqlLogin,
      dropUser: async (user: string) => {
        const admin = await createConnection(stack.mariadb!.url);
        try {
          await admin.query('DROP USER ?@?', [user, '%']);
        } finally {
          await admin.end();
        }
      },
    },
    {
      engine: 'redis',
      plan: 4,
      server: (s: TestStack): EngineServer => s.redis!,
      login: redisLogin,
      dropUser: async (user: string) => {
        const admin = new Redis(stack.redis!.url, { lazyConnect: true });
        await admin.connect();
        try {
          expect(await admin.call('ACL', 'DELUSER', user)).toBe(1);
        } finally {
          admin.disconnect();
        }
      },
    },
  ])('$engine: a credential deleted on the engine by hand', (c) => {
    it('logs in again with its issued password within a reconciler round, as a repair_credential task', async () => {
      const name = `drift_user_${c.engine}`;
      const db = await create(name, c.plan);
      const server = c.server(stack);
      const login = c.login(server.host, server.port);
      expect(await logsIn(login, name, db.user, db.password)).toBe(true);

      await c.dropUser(db.user);
      expect(await logsIn(login, name, db.user, db.password)).toBe(false);

      await until(() => logsIn(login, name, db.user, db.password), 30_000, 250);
      // The login works as soon as the user exists; the task closes once every grant is back.
      const repairs = () => http.get(`/api/task/?database=${db.id}&type=repair_credential`);
      await until(async () => (await repairs()).body.task[0]?.status !== 'running', 10_000, 100);
      expect((await repairs()).body.task).toEqual([
        expect.objectContaining({ type: 'repair_credential', status: 'success' }),
      ]);
      // The password handed out before is still the one on the credential.
      const credential = await http.get(`/api/credential/?database=${db.id}`);
      expect(credential.body.credential).toHaveLength(1);
      expect((await http.get(`${db.path}`)).body.status).toBe('ready');
    }, 60_000);
  });

  describe('a database dropped on its engine by hand', () => {
    let lost: Awaited<ReturnType<typeof create>>;

    beforeAll(async () => {
      lost = await create('drift_lost', 1);
      await asPostgresAdmin('DROP DATABASE drift_lost WITH (FORCE)');
      await until(async () => (await http.get(lost.path)).body.status === 'lost', 30_000, 250);
    }, 60_000);

    it('shows lost in its detail and in the lists, and takes no new credential', async () => {
      const detail = await http.get(lost.path);
      expect(detail.body).toMatchObject({ status: 'lost', quarantine_dt: null });
      const list = await http.get('/api/database/?name=drift_lost');
      expect(list.body.database).toEqual([expect.objectContaining({ status: 'lost' })]);
      const regular = await http.as('user:123456').get('/api/database/?name=drift_lost');
      expect(regular.status).toBe(200);
      expectProblem(
        await http.post('/api/credential/', { user: 'another', database: lost.id }),
        409,
      );
      const tasks = await http.get(`/api/task/?database=${lost.id}&type=reconcile_database`);
      expect(tasks.body.task).toEqual([expect.objectContaining({ status: 'success' })]);
    });

    it('is ready again once the database is back on the engine', async () => {
      await asPostgresAdmin('CREATE DATABASE drift_lost');
      await until(async () => (await http.get(lost.path)).body.status === 'ready', 30_000, 250);
      await asPostgresAdmin('DROP DATABASE drift_lost WITH (FORCE)');
      await until(async () => (await http.get(lost.path)).body.status === 'lost', 30_000, 250);
    }, 60_000);

    it('goes back to lost, not ready, after a quarantine of it was interrupted', async () => {
      // What a process that died in the middle of the first DELETE leaves: the row
      // `quarantining`, its lock free. There is no access to give back to a missing database.
      await stack.metadata(`UPDATE database SET status = 'quarantining' WHERE id = $1`, [lost.id]);
      await until(
        async () => (await http.get(lost.path)).body.status !== 'quarantining',
        30_000,
        250,
      );
      expect((await http.get(lost.path)).body).toMatchObject({
        status: 'lost',
        quarantine_dt: null,
      });
    }, 60_000);

    it('can still be deleted: the first DELETE quarantines it, the second removes it', async () => {
      expect((await http.delete(lost.path)).status).toBe(204);
      expect((await http.get(lost.path)).body).toMatchObject({
        status: 'quarantined',
        quarantine_dt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      });
      expect((await http.delete(lost.path)).status).toBe(204);
      expectProblem(await http.get(lost.path), 404);
      expect(
        await stack.metadata('SELECT id FROM database WHERE name = $1', ['drift_lost']),
      ).toEqual([]);
      const roles = await new Promise<unknown[]>((resolve, reject) => {
        const client = new Client({ connectionString: stack.pg.url });
        client
          .connect()
          .then(() => client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [lost.user]))
          .then((r) => resolve(r.rows), reject)
          .finally(() => void client.end());
      });
      expect(roles).toEqual([]);
    }, 60_000);
  });
});
