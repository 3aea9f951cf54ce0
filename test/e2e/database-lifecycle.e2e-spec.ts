import {
  EngineProvider,
  InfraTarget,
  MysqlProvider,
  PostgresqlProvider,
  RedisProvider,
} from '@dbaas/engines';
import {
  Login,
  mysqlLogin,
  postgresLogin,
  redisLogin,
  UserSession,
} from '../engines/engine-sessions';
import { EngineServer } from '../harness';
import { CLI_MAIN, runNode } from './support/api-process';
import { dated } from './support/dates';
import { expectProblem, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

interface EngineCase {
  engine: 'postgresql' | 'mysql' | 'redis';
  plan: number;
  server: (stack: TestStack) => EngineServer;
  login: (host: string, port: number) => Login;
  provider: () => EngineProvider;
  /** Bytes to write to see the used size grow. */
  fillBytes: number;
}

/**
 * The shared contract, through the API and on real servers: every credential is checked by
 * logging in with the engine's own client library, with the password the API hands out and
 * the database's endpoint.
 */
const CASES: EngineCase[] = [
  {
    engine: 'postgresql',
    plan: 1,
    server: (s) => s.pg,
    login: postgresLogin,
    provider: () => new PostgresqlProvider(),
    fillBytes: 1 << 20,
  },
  {
    engine: 'mysql',
    plan: 2,
    server: (s) => s.mariadb!,
    login: mysqlLogin,
    provider: () => new MysqlProvider(),
    fillBytes: 4 << 20,
  },
  {
    engine: 'redis',
    plan: 4,
    server: (s) => s.redis!,
    login: redisLogin,
    provider: () => new RedisProvider(),
    fillBytes: 1 << 20,
  },
];

describe('databases, credentials and quarantine on real engines (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;

  beforeAll(async () => {
    stack = await startStack({ engines: true, env: { DBAAS_USED_SIZE_CACHE_SECONDS: '0' } });
    http = stack.http;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe.each(CASES)('$engine', (c) => {
    const name = `contract_${c.engine}`;
    const sessions: UserSession[] = [];
    let provider: EngineProvider;
    let target: InfraTarget;
    let databasePath: string;
    let credentialPath: string;
    let user: string;

    /** Logs in the way an application would: the endpoint, the user and the password from the API. */
    async function login(
      endpoint: string,
      login: string,
      password: string,
      redisPrefix = name,
    ): Promise<UserSession> {
      const url = new URL(endpoint.replace('<user>:<password>', 'x:y'));
      // A Redis endpoint names database 0; the dbaas database is the key prefix.
      const database = c.engine === 'redis' ? redisPrefix : url.pathname.slice(1);
      const session = await c.login(url.hostname, Number(url.port))(database, login, password);
      sessions.push(session);
      return session;
    }

    async function password(path: string): Promise<string> {
      const answer = await http.get(path);
      expect(answer.status).toBe(200);
      return answer.body.password;
    }

    beforeAll(() => {
      const server = c.server(stack);
      provider = c.provider();
      target = {
        id: 1,
        addresses: [server.address],
        adminUser: server.adminUser,
        adminPassword: server.adminPassword,
      };
    });

    afterAll(async () => {
      await Promise.all(sessions.map((s) => s.close()));
      await provider.close();
    });

    it('creates the database and its default credential on the engine', async () => {
      const answer = await http.post('/api/database/', {
        name: `Contract ${c.engine}`,
        plan: `/api/plan/${c.plan}/`,
        environment: '/api/environment/1/',
      });
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({
        name,
        status: 'ready',
        quarantine_dt: null,
        credentials: [{ user: `u_${name}` }],
      });
      expect(answer.body.endpoint).toMatch(
        new RegExp(`^[a-z]+://<user>:<password>@127\\.0\\.0\\.1:\\d+/`),
      );
      expect(answer.text).not.toMatch(/"password"/);
      databasePath = new URL(answer.body._links.self).pathname;
      credentialPath = new URL(answer.body.credentials[0]._links.self).pathname;
      user = answer.body.credentials[0].user;
      expect(await provider.listUsers(target)).toContain(user);
      if (c.engine !== 'redis') expect(await provider.listDatabases(target)).toContain(name);
    });

    it('lets the credential log in with its password, and refuses a wrong one', async () => {
      const { body: database } = await http.get(databasePath);
      const session = await login(database.endpoint, user, await password(credentialPath));
      await session.init();
      await session.write('greeting', 'hello');
      expect(await session.read('greeting')).toBe('hello');
      await expect(login(database.endpoint, user, 'wrong-password-123')).rejects.toThrow();
    });

    it('never shows a password in lists or inside a database', async () => {
      const secret = await password(credentialPath);
      for (const path of [
        '/api/credential/?page_size=100',
        '/api/database/?page_size=100',
        databasePath,
      ]) {
        expect((await http.get(path)).text).not.toContain(secret);
      }
    });

    it('grows used_size_in_bytes after data is written', async () => {
      const { body: before } = await http.get(databasePath);
      const session = await login(before.endpoint, user, await password(credentialPath));
      await session.fill(c.fillBytes);
      const { body: after } = await http.get(databasePath);
      expect(typeof after.used_size_in_bytes).toBe('number');
      expect(after.used_size_in_bytes).toBeGreaterThan(before.used_size_in_bytes ?? 0);
    });

    it('resets the password: the old one stops working at once, the new one works', async () => {
      const { body: database } = await http.get(databasePath);
      const old = await password(credentialPath);
      const reset = await http.post(`${credentialPath}reset_password/`);
      expect(reset.status).toBe(200);
      expect(reset.body.password).not.toBe(old);
      expect(reset.body.password).toMatch(/^[A-Za-z0-9]{20,}$/);
      await expect(login(database.endpoint, user, old)).rejects.toThrow();
      expect(
        await (await login(database.endpoint, user, reset.body.password)).read('greeting'),
      ).toBe('hello');
      expect(await password(credentialPath)).toBe(reset.body.password);
    });

    it('gives a read-only credential reads but no writes', async () => {
      const created = await http.post('/api/credential/', {
        user: `ro_${c.engine}`,
        database: databasePath,
        privileges: 'read-only',
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ user: `ro_${c.engine}`, privileges: 'read-only' });
      const { body: database } = await http.get(databasePath);
      const session = await login(database.endpoint, created.body.user, created.body.password);
      expect(await session.read('greeting')).toBe('hello');
      await expect(session.write('greeting', 'changed')).rejects.toThrow();
    });

    it("keeps one database's user out of another database", async () => {
      const other = await http.post('/api/database/', {
        name: `${name}_other`,
        plan: c.plan,
        environment: 1,
      });
      expect(other.status).toBe(201);
      const otherCredential = await http.get(
        new URL(other.body.credentials[0]._links.self).pathname,
      );
      const otherSession = await login(
        other.body.endpoint,
        otherCredential.body.user,
        otherCredential.body.password,
        `${name}_other`,
      );
      await otherSession.init();
      await otherSession.write('secret', 'other-data');
      const { body: database } = await http.get(databasePath);
      const session = await login(database.endpoint, user, await password(credentialPath));
      await expect(session.readOther(`${name}_other`, 'secret')).rejects.toThrow();
    });

    it('quarantine ends open sessions and refuses logins, but drops no data', async () => {
      const { body: database } = await http.get(databasePath);
      const secret = await password(credentialPath);
      const open = await login(database.endpoint, user, secret);
      await open.ping();
      const [first, days] = await dated(() => http.delete(databasePath));
      expect(first.status).toBe(204);
      await expect(open.ping()).rejects.toThrow();
      await expect(login(database.endpoint, user, secret)).rejects.toThrow();
      const { body: quarantined } = await http.get(databasePath);
      expect(quarantined.status).toBe('quarantined');
      expect(days).toContain(quarantined.quarantine_dt);
      if (c.engine !== 'redis') expect(await provider.listDatabases(target)).toContain(name);
    });

    it('hides a quarantined database and its credentials from regular users, and refuses new credentials and resets', async () => {
      // The regular user's own database: only the quarantine, not the team rule, can hide it.
      const regular = http.as('user:123456');
      const mine = await regular.post('/api/database/', {
        name: `${name}_mine`,
        plan: c.plan,
        environment: 1,
      });
      expect(mine.status).toBe(201);
      const minePath = new URL(mine.body._links.self).pathname;
      const mineCredentialPath = new URL(mine.body.credentials[0]._links.self).pathname;
      const visible = await regular.get(mineCredentialPath);
      expect(visible.status).toBe(200);
      const secret = visible.body.password as string;
      expect(secret).toMatch(/^[A-Za-z0-9]{20,}$/);
      expect((await regular.get(minePath)).status).toBe(200);
      const ids = async (path: string, key: string) =>
        ((await regular.get(path)).body[key] as { id: number }[]).map((item) => item.id);
      expect(await ids('/api/database/?page_size=100', 'database')).toContain(mine.body.id);
      expect(await ids('/api/credential/?page_size=100', 'credential')).toContain(visible.body.id);

      expect((await regular.delete(minePath)).status).toBe(204);
      expect((await http.get(minePath)).body.status).toBe('quarantined');
      expectProblem(await regular.get(minePath), 404);
      const hiddenCredential = await regular.get(mineCredentialPath);
      expectProblem(hiddenCredential, 404);
      expect(hiddenCredential.text).not.toContain(secret);
      expectProblem(await regular.post(`${mineCredentialPath}reset_password/`), 404);
      expectProblem(await regular.post(`${minePath}restore/`), 404);
      expect(await ids('/api/database/?page_size=100', 'database')).not.toContain(mine.body.id);
      expect(await ids('/api/credential/?page_size=100', 'credential')).not.toContain(
        visible.body.id,
      );
      // Gone for good, so that the quarantine filters below see only their own database.
      expect((await http.delete(minePath)).status).toBe(204);

      expectProblem(await http.as('user:123456').get(databasePath), 404);
      expectProblem(await http.post(`${credentialPath}reset_password/`), 409);
      expectProblem(
        await http.post('/api/credential/', { user: `late_${c.engine}`, database: databasePath }),
        409,
      );
      expectProblem(await http.as('user:123456').post(`${databasePath}restore/`), 404);
    });

    it('restore brings access back with a new password and the data intact', async () => {
      const old = await password(credentialPath);
      const restored = await http.post(`${databasePath}restore/`);
      expect(restored.status).toBe(200);
      expect(restored.body).toMatchObject({ status: 'ready', quarantine_dt: null });
      const fresh = await password(credentialPath);
      expect(fresh).not.toBe(old);
      const session = await login(restored.body.endpoint, user, fresh);
      expect(await session.read('greeting')).toBe('hello');
      expectProblem(await http.post(`${databasePath}restore/`), 409);
    });

    it('the second DELETE removes database and users from the engine, and the records', async () => {
      const { body: database } = await http.get(databasePath);
      const users = database.credentials.map((credential: { user: string }) => credential.user);
      expect((await http.delete(databasePath)).status).toBe(204);
      expect((await http.delete(databasePath)).status).toBe(204);
      expectProblem(await http.get(databasePath), 404);
      expectProblem(await http.get(credentialPath), 404);
      expectProblem(await http.delete(databasePath), 404);
      const engineUsers = await provider.listUsers(target);
      for (const gone of users) expect(engineUsers).not.toContain(gone);
      expect(await provider.listDatabases(target)).not.toContain(name);
      const rows = await stack.metadata('SELECT id FROM database WHERE name = $1', [name]);
      expect(rows).toEqual([]);
    });

    it('can run every operation again: create, delete credential, quarantine and delete', async () => {
      const again = await http.post('/api/database/', { name, plan: c.plan, environment: 1 });
      expect(again.status).toBe(201);
      const path = new URL(again.body._links.self).pathname;
      expectProblem(await http.post('/api/database/', { name, plan: c.plan, environment: 1 }), 409);
      const extra = await http.post('/api/credential/', {
        user: `twice_${c.engine}`,
        database: path,
      });
      const extraPath = new URL(extra.body._links.self).pathname;
      expectProblem(
        await http.post('/api/credential/', { user: `twice_${c.engine}`, database: path }),
        409,
      );
      expect((await http.delete(extraPath)).status).toBe(204);
      expectProblem(await http.delete(extraPath), 404);
      expect(await provider.listUsers(target)).not.toContain(`twice_${c.engine}`);
      expect((await http.delete(path)).status).toBe(204);
      expect((await http.delete(path)).status).toBe(204);
      expect(await provider.listUsers(target)).not.toContain(`u_${name}`);
    });
  });

  describe('rules', () => {
    it('normalizes names as the seed does and refuses what cannot be a name', async () => {
      const created = await http.post('/api/database/', {
        name: '  Ünïcode Dátabase--2 ',
        plan: 1,
        environment: 1,
      });
      expect(created.status).toBe(201);
      expect(created.body.name).toBe('unicode_database_2');
      for (const bad of ['', '___', '2fast', 'x'.repeat(41), 'postgres', 'template1', '💥']) {
        const answer = await http.post('/api/database/', { name: bad, plan: 1, environment: 1 });
        expectProblem(answer, 400);
        expect(answer.body.errors.name).toBeDefined();
      }
      expectProblem(
        await http.post('/api/database/', { name: 'mysql', plan: 2, environment: 1 }),
        400,
      );
    });

    it('gives long names with a common start their own default users where MySQL cuts user names at 32', async () => {
      const names = [
        'analytics_service_production_eu_west_1',
        'analytics_service_production_eu_west_2',
      ];
      const users: string[] = [];
      for (const name of names) {
        const created = await http.post('/api/database/', { name, plan: 2, environment: 1 });
        expect(created.status).toBe(201);
        const credential = await http.get(
          new URL(created.body.credentials[0]._links.self).pathname,
        );
        users.push(credential.body.user);
        const url = new URL(created.body.endpoint.replace('<user>:<password>', 'x:y'));
        const session = await mysqlLogin(url.hostname, Number(url.port))(
          name,
          credential.body.user,
          credential.body.password,
        );
        await session.close();
      }
      expect(users[0]).not.toBe(users[1]);
      for (const user of users) expect(user.length).toBeLessThanOrEqual(32);
    });

    it('refuses a plan not offered in the environment, and answers 503 when no infra has room', async () => {
      const plan = await http.post('/api/plan/', {
        name: 'dev-only',
        engine: 1,
        environments: [1],
      });
      expectProblem(
        await http.post('/api/database/', {
          name: 'wrong_env',
          plan: plan.body.id,
          environment: 2,
        }),
        400,
      );
      const full = await http.post('/api/database/', {
        name: 'no_infra',
        plan: plan.body.id,
        environment: 1,
      });
      expectProblem(full, 503);
      expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it("scopes databases to the caller's teams and lets only project and description change", async () => {
      const regular = http.as('user:123456');
      // A project of the caller's own team: the sample project is team dbaas's.
      const project = await regular.post('/api/project/', { name: 'team1-orders' });
      expect(project.status).toBe(201);
      const mine = await regular.post('/api/database/', {
        name: 'team1_owned',
        plan: 1,
        environment: 1,
        project: project.body._links.self,
      });
      expect(mine.status).toBe(201);
      const path = new URL(mine.body._links.self).pathname;
      const listed = await regular.get('/api/database/?page_size=100');
      const seen: { name: string; team: string }[] = listed.body.database;
      expect(seen.map((d) => d.name)).toContain('team1_owned');
      expect(new Set(seen.map((d) => d.team))).toEqual(new Set([mine.body.team]));
      expectProblem(await regular.get('/api/database/1/'), 404);
      expectProblem(
        await regular.post('/api/database/', {
          name: 'not_my_team',
          plan: 1,
          environment: 1,
          team: 1,
        }),
        400,
      );
      const changed = await regular.patch(path, { description: 'orders', project: null });
      expect(changed.body).toMatchObject({ description: 'orders', project: null });
      expectProblem(await regular.patch(path, { name: 'renamed' }), 400);
      expectProblem(await regular.put(path, { plan: 2 }), 400);
      expect((await regular.patch(path, { name: 'team1_owned' })).status).toBe(200);
      const filtered = await http.get(`/api/database/?name=team1_owned&project=${project.body.id}`);
      expect(filtered.body._links.count).toBe(0);
      const byTeam = await http.get(
        `/api/database/?team=${new URL(mine.body.team).pathname}&engine=1`,
      );
      expect(byTeam.body.database.map((d: { name: string }) => d.name)).toContain('team1_owned');
    });

    it('lets a dba filter on quarantine', async () => {
      const created = await http.post('/api/database/', {
        name: 'to_quarantine',
        plan: 4,
        environment: 1,
      });
      await http.delete(new URL(created.body._links.self).pathname);
      const quarantined = await http.get('/api/database/?quarantine=true&page_size=100');
      expect(quarantined.body.database.map((d: { name: string }) => d.name)).toEqual([
        'to_quarantine',
      ]);
      const live = await http.get('/api/database/?quarantine=false&page_size=100');
      expect(live.body.database.map((d: { name: string }) => d.name)).not.toContain(
        'to_quarantine',
      );
    });

    it('purge-quarantine keeps what is younger than the retention and removes the rest from the engine', async () => {
      const keep = await runNode(CLI_MAIN, ['purge-quarantine'], stack.api.env);
      expect(keep.code).toBe(0);
      expect(keep.stdout).toContain('Purged 0 database(s)');
      const purge = await runNode(CLI_MAIN, ['purge-quarantine'], {
        ...stack.api.env,
        QUARANTINE_RETENTION_DAYS: '0',
      });
      expect(purge.code).toBe(0);
      expect(purge.stdout).toContain('Purged 1 database(s); 0 failed');
      expect(purge.stderr).toContain('[1/1] to_quarantine');
      expect(await stack.metadata("SELECT id FROM database WHERE name = 'to_quarantine'")).toEqual(
        [],
      );
      const redis = new RedisProvider();
      const server = stack.redis!;
      const users = await redis.listUsers({
        id: 4,
        addresses: [server.address],
        adminUser: server.adminUser,
        adminPassword: server.adminPassword,
      });
      await redis.close();
      expect(users).not.toContain('u_to_quarantine');
    });

    it('reports infra reachability and placement on the infra detail', async () => {
      const answer = await http.get('/api/infra/1/');
      expect(answer.body.status).toMatchObject({
        reachable: true,
        version: expect.stringMatching(/\d/),
      });
      expect(answer.body.databases.placed).toBeGreaterThan(0);
      const mongo = await http.get('/api/infra/3/');
      expect(mongo.body.status).toMatchObject({ reachable: false, version: null });
    });

    it('stores credential passwords encrypted, never in plaintext', async () => {
      const rows = await stack.metadata<{ id: number; password_encrypted: string }>(
        'SELECT id, password_encrypted FROM credential',
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        const { body } = await http.get(`/api/credential/${row.id}/`);
        expect(row.password_encrypted).toMatch(/^v1:/);
        expect(row.password_encrypted).not.toContain(body.password);
      }
    });
  });
});
