import { Connection, createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { Answer, expectProblem, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

/**
 * SPEC §10 items on real engines: an infra serving several plans, plan `max_connections`
 * (PostgreSQL CONNECTION LIMIT, MariaDB MAX_USER_CONNECTIONS: n logins succeed, the n+1st
 * gets the engine's own refusal), the team `database_limit`, `is_protected` and `tags`.
 * The sample catalog (no sample databases): plans 1 postgresql, 2 mysql, 3 mongodb, 4 redis,
 * each served by infra 1..4 in environment 1 (dev); the admin is in team 1 (`dbaas`).
 */
/** MariaDB's refusal of a login over MAX_USER_CONNECTIONS (error 1226). */
const TOO_MANY = {
  code: 'ER_USER_LIMIT_REACHED',
  message: expect.stringMatching(/max_user_connections/),
};

describe('Plan limits, quotas, protection and tags (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;
  const opened: { end(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    stack = await startStack({ engines: true, sampleDatabases: false });
    http = stack.http;
  }, 180_000);

  afterAll(async () => {
    for (const connection of opened) await connection.end().catch(() => undefined);
    await stack?.stop();
  });

  const id = (answer: Answer) => Number(answer.body.id);
  const planUrl = (plan: number) => `${stack.api.baseUrl}/api/plan/${plan}/`;

  /** A plan of `engine` offered in dev; its id. */
  async function newPlan(name: string, engine: number, maxConnections: number): Promise<number> {
    const answer = await http.post('/api/plan/', {
      name,
      engine,
      environments: [1],
      max_connections: maxConnections,
    });
    expect(answer.status).toBe(201);
    expect(answer.body.max_connections).toBe(maxConnections);
    return id(answer);
  }

  /** Creates a database of the plan in dev; its id and its owner's login. */
  async function newDatabase(name: string, plan: number, extra: object = {}) {
    const created = await http.post('/api/database/', { name, plan, environment: 1, ...extra });
    expect(created.status).toBe(201);
    const credential = await http.get(`/api/credential/${created.body.credentials[0].id}/`);
    return {
      id: id(created),
      body: created.body,
      user: credential.body.user as string,
      password: credential.body.password as string,
      credentialId: id(credential),
    };
  }

  const pgLogin = async (database: string, user: string, password: string) => {
    const client = new Client({
      host: stack.pg.host,
      port: stack.pg.port,
      database,
      user,
      password,
    });
    client.on('error', () => undefined);
    await client.connect();
    opened.push(client);
    return client;
  };

  /** Sessions of a MariaDB user the server still counts (seen by the admin). */
  const sessionsOf = async (user: string): Promise<number> => {
    const admin = await createConnection({
      host: stack.mariadb!.host,
      port: stack.mariadb!.port,
      user: stack.mariadb!.adminUser,
      password: stack.mariadb!.adminPassword,
    });
    try {
      const [rows] = await admin.query(
        'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?',
        [user],
      );
      return Number((rows as { n: number }[])[0].n);
    } finally {
      await admin.end();
    }
  };

  const mariaLogin = async (database: string, user: string, password: string) => {
    const connection: Connection = await createConnection({
      host: stack.mariadb!.host,
      port: stack.mariadb!.port,
      database,
      user,
      password,
    });
    connection.on('error', () => undefined);
    opened.push(connection);
    return connection;
  };

  describe('an infra serves several plans of its engine', () => {
    it('takes `plans` (and `plan` alone as a one-plan list), shows both `plan` and `plans`', async () => {
      const large = await newPlan('postgresql-large', 1, 0);
      const answer = await http.patch('/api/infra/1/', { plans: [1, large] });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ plan: planUrl(1), plans: [planUrl(1), planUrl(large)] });
      // A database of the new plan lands on the infra that serves it.
      const database = await newDatabase('on_large', large);
      expect(database.body.plan).toBe(planUrl(large));
      expect((await http.get(`/api/infra/1/`)).body.databases.placed).toBeGreaterThanOrEqual(1);

      const one = await http.patch('/api/infra/1/', { plan: 1, plans: [1, large] });
      expect(one.status).toBe(200);
      expectProblem(await http.patch('/api/infra/1/', { plan: 2, plans: [1, large] }), 400);
    });

    it('refuses a plan of another engine than the infra’s: 400, nothing changed', async () => {
      const before = (await http.get('/api/infra/1/')).body.plans;
      const answer = await http.patch('/api/infra/1/', { plans: [1, 2] });
      expectProblem(answer, 400);
      expect(answer.body.errors.plans[0]).toMatch(/another engine/);
      expect((await http.get('/api/infra/1/')).body.plans).toEqual(before);
      expectProblem(await http.patch('/api/infra/1/', { plans: [] }), 400);
    });
  });

  describe('plan max_connections', () => {
    it('PostgreSQL: n connections to the database succeed, the n+1st gets the engine’s refusal', async () => {
      const plan = await newPlan('postgresql-two-connections', 1, 2);
      expect((await http.patch('/api/infra/1/', { plans: [1, plan] })).status).toBe(200);
      const db = await newDatabase('limited_pg', plan);

      await pgLogin('limited_pg', db.user, db.password);
      await pgLogin('limited_pg', db.user, db.password);
      await expect(pgLogin('limited_pg', db.user, db.password)).rejects.toMatchObject({
        code: '53300',
        message: expect.stringMatching(/too many connections for database/),
      });
      // The limit is the database's: another credential of it shares it.
      const reader = await http.post('/api/credential/', {
        user: 'u_limited_ro',
        database: db.id,
        privileges: 'read-only',
      });
      expect(reader.status).toBe(201);
      await expect(
        pgLogin('limited_pg', 'u_limited_ro', reader.body.password),
      ).rejects.toMatchObject({ code: '53300' });
    });

    it('MariaDB: n connections of a credential succeed, the n+1st is refused; kept over a password reset', async () => {
      const plan = await newPlan('mysql-two-connections', 2, 2);
      expect((await http.patch('/api/infra/2/', { plans: [2, plan] })).status).toBe(200);
      const db = await newDatabase('maria_limited', plan);

      await mariaLogin('maria_limited', db.user, db.password);
      await mariaLogin('maria_limited', db.user, db.password);
      await expect(mariaLogin('maria_limited', db.user, db.password)).rejects.toMatchObject(
        TOO_MANY,
      );

      const reset = await http.post(`/api/credential/${db.credentialId}/reset_password/`);
      expect(reset.status).toBe(200);
      // The reset ended the old sessions? Not necessarily: close ours and wait for the server.
      for (const connection of opened.splice(0)) await connection.end().catch(() => undefined);
      await until(async () => (await sessionsOf(db.user)) === 0);
      await mariaLogin('maria_limited', db.user, reset.body.password);
      await mariaLogin('maria_limited', db.user, reset.body.password);
      await expect(mariaLogin('maria_limited', db.user, reset.body.password)).rejects.toMatchObject(
        TOO_MANY,
      );

      // A new credential of the database gets the limit too.
      const other = await http.post('/api/credential/', {
        user: 'u_maria_other',
        database: db.id,
      });
      expect(other.status).toBe(201);
      await mariaLogin('maria_limited', 'u_maria_other', other.body.password);
      await mariaLogin('maria_limited', 'u_maria_other', other.body.password);
      await expect(
        mariaLogin('maria_limited', 'u_maria_other', other.body.password),
      ).rejects.toMatchObject(TOO_MANY);
    });

    it('without a limit (0), many connections succeed', async () => {
      const db = await newDatabase('maria_free', 2);
      for (let i = 0; i < 4; i++) await mariaLogin('maria_free', db.user, db.password);
    });

    it('refuses a Redis plan with a limit, a negative limit, and a PATCH that would add one: 400, nothing written', async () => {
      const plans = async () => (await stack.metadata('SELECT count(*)::int AS n FROM plan'))[0];
      const before = await plans();
      const redis = await http.post('/api/plan/', {
        name: 'redis-limited',
        engine: 4,
        environments: [1],
        max_connections: 5,
      });
      expectProblem(redis, 400);
      expect(redis.body.errors.max_connections[0]).toMatch(/Redis cannot limit/);
      const negative = await http.post('/api/plan/', {
        name: 'pg-negative',
        engine: 1,
        environments: [1],
        max_connections: -1,
      });
      expectProblem(negative, 400);
      expect(negative.body.errors).toHaveProperty('max_connections');
      expect(await plans()).toEqual(before);

      expectProblem(await http.patch('/api/plan/4/', { max_connections: 3 }), 400);
      expect((await http.get('/api/plan/4/')).body.max_connections).toBe(0);
    });
  });

  describe('team database_limit', () => {
    it('a create beyond it is a 409 quota-exceeded, and nothing is made', async () => {
      const [{ n }] = await stack.metadata<{ n: number }>(
        'SELECT count(*)::int AS n FROM database WHERE team_id = 1',
      );
      expectProblem(await http.patch('/api/team/1/', { database_limit: -1 }), 400);
      const limited = await http.patch('/api/team/1/', { database_limit: n + 1 });
      expect(limited.status).toBe(200);
      expect(limited.body.database_limit).toBe(n + 1);

      await newDatabase('quota_last', 1);
      const refused = await http.post('/api/database/', {
        name: 'quota_over',
        plan: 1,
        environment: 1,
      });
      expectProblem(refused, 409);
      expect(refused.body.type).toMatch(/\/quota-exceeded$/);
      expect(await stack.metadata("SELECT id FROM database WHERE name = 'quota_over'")).toEqual([]);
      const engine = new Client({ connectionString: stack.pg.url });
      await engine.connect();
      const { rows } = await engine.query("SELECT 1 FROM pg_database WHERE datname = 'quota_over'");
      await engine.end();
      expect(rows).toEqual([]);

      // 0 lifts the limit.
      expect((await http.patch('/api/team/1/', { database_limit: 0 })).status).toBe(200);
      await newDatabase('quota_over', 1);
    });
  });

  describe('is_protected and tags', () => {
    it('a protected database refuses DELETE (409) until the protection is lifted', async () => {
      const db = await newDatabase('guarded', 1, { is_protected: true, tags: ['shop'] });
      expect(db.body).toMatchObject({ is_protected: true, tags: ['shop'] });

      const refused = await http.delete(`/api/database/${db.id}/`);
      expectProblem(refused, 409);
      expect(refused.body.type).toMatch(/\/deletion-protected$/);
      expect((await http.get(`/api/database/${db.id}/`)).body.status).toBe('ready');

      const lifted = await http.patch(`/api/database/${db.id}/`, { is_protected: false });
      expect(lifted.status).toBe(200);
      expect(lifted.body.is_protected).toBe(false);
      expect((await http.delete(`/api/database/${db.id}/`)).status).toBe(204);
      expect((await http.get(`/api/database/${db.id}/`)).body.status).toBe('quarantined');
      // Protected while in quarantine: the second DELETE is refused too.
      await http.put(`/api/database/${db.id}/`, { is_protected: true });
      expectProblem(await http.delete(`/api/database/${db.id}/`), 409);
    });

    it('?tag=a&tag=b lists the databases carrying all of them', async () => {
      await newDatabase('tagged_both', 1, { tags: ['team:pay', 'env:prod', 'team:pay'] });
      const one = await newDatabase('tagged_one', 1, { tags: ['team:pay'] });
      const names = async (query: string) =>
        ((await http.get(`/api/database/?${query}`)).body.database as { name: string }[])
          .map((d) => d.name)
          .sort();

      expect(await names('tag=team:pay')).toEqual(['tagged_both', 'tagged_one']);
      expect(await names('tag=team:pay&tag=env:prod')).toEqual(['tagged_both']);
      expect(await names('tag=nothing')).toEqual([]);
      expect((await http.get(`/api/database/?tag=team:pay`)).body._links.count).toBe(2);
      expect((await http.get('/api/database/?name=tagged_both')).body.database[0].tags).toEqual([
        'team:pay',
        'env:prod',
      ]);

      const patched = await http.patch(`/api/database/${one.id}/`, { tags: ['env:prod'] });
      expect(patched.body.tags).toEqual(['env:prod']);
      expect(await names('tag=env:prod')).toEqual(['tagged_both', 'tagged_one']);
    });

    it('refuses invalid tags and more than 20: 400, nothing changed', async () => {
      const db = await newDatabase('tag_checks', 1, { tags: ['keep'] });
      const tooMany = Array.from({ length: 21 }, (_, i) => `t${i}`);
      for (const tags of [['Upper'], ['-dash'], ['a'.repeat(64)], ['sp ace'], tooMany, [7]]) {
        const answer = await http.patch(`/api/database/${db.id}/`, { tags });
        expectProblem(answer, 400);
        expect(answer.body.errors).toHaveProperty('tags');
      }
      expectProblem(await http.patch(`/api/database/${db.id}/`, { is_protected: 'yes' }), 400);
      expect((await http.get(`/api/database/${db.id}/`)).body).toMatchObject({
        tags: ['keep'],
        is_protected: false,
      });
      const created = await http.post('/api/database/', {
        name: 'bad_tags',
        plan: 1,
        environment: 1,
        tags: tooMany,
      });
      expectProblem(created, 400);
      expect(await stack.metadata("SELECT id FROM database WHERE name = 'bad_tags'")).toEqual([]);
      expectProblem(await http.get('/api/database/?tag=NOPE'), 400);
    });

    it('Open Service Broker: deprovisioning a protected instance is a 422 with an OSB error body', async () => {
      const created = await http.post('/api/user/', {
        username: 'platform',
        password: 'platform-pass-1',
        role: 'broker',
        teams: [1],
      });
      expect(created.status).toBe(201);
      const osb = http.as('platform:platform-pass-1');
      const headers = { 'X-Broker-API-Version': '2.17' };
      const catalog = await osb.get('/v2/catalog', { headers });
      const service = (
        catalog.body.services as { id: string; plans: { id: string; name: string }[] }[]
      ).find((s) => s.plans.some((p) => p.name === 'postgresql-small-dev'))!;
      const offer = {
        service_id: service.id,
        plan_id: service.plans.find((p) => p.name === 'postgresql-small-dev')!.id,
      };
      const instance = '4f1b2c3d-0001-4a5b-8c6d-000000000001';
      const path = `/v2/service_instances/${instance}`;
      const provisioned = await osb.put(
        path,
        { ...offer, organization_guid: 'org', space_guid: 'space' },
        { headers },
      );
      expect(provisioned.status).toBe(201);
      const name = `osb_${instance.replace(/-/g, '')}`;
      const database = (await http.get(`/api/database/?name=${name}`)).body.database[0];
      expect(
        (await http.patch(`/api/database/${database.id}/`, { is_protected: true })).status,
      ).toBe(200);

      const query = `?service_id=${offer.service_id}&plan_id=${offer.plan_id}`;
      const refused = await osb.delete(`${path}${query}`, { headers });
      expect(refused.status).toBe(422);
      expect(refused.headers.get('content-type')).toMatch(/application\/json/);
      expect(refused.body).toEqual({
        error: 'UnprocessableEntity',
        description: expect.stringMatching(/protected/),
      });
      expect((await http.get(`/api/database/${database.id}/`)).body.status).toBe('ready');
      expect((await osb.get(path, { headers })).status).toBe(200);

      await http.patch(`/api/database/${database.id}/`, { is_protected: false });
      expect((await osb.delete(`${path}${query}`, { headers })).status).toBe(200);
    });
  });
});
