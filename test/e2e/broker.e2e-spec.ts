import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { Answer, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

const VERSION = { 'X-Broker-API-Version': '2.17' };
const BROKER = 'platform:platform-pass-1';
const BROKER_TWO_TEAMS = 'platform2:platform-pass-2';
const ORG = { organization_guid: 'org-guid-1', space_guid: 'space-guid-1' };
const CONTEXT = {
  platform: 'cloudfoundry',
  organization_guid: 'org-guid-1',
  space_guid: 'space-guid-1',
  instance_name: 'orders-db',
};

interface Plan {
  id: string;
  name: string;
  description: string;
}
interface Service {
  id: string;
  name: string;
  description: string;
  plans: Plan[];
  [key: string]: unknown;
}

let counter = 0;
/** A fresh instance or binding id (a UUID, as platforms send). */
const newId = () =>
  `4f1b2c3d-${(++counter).toString(16).padStart(4, '0')}-4a5b-8c6d-${Date.now().toString(16).padStart(12, '0').slice(-12)}`;
const hex = (id: string) => id.replace(/-/g, '');

/**
 * The Open Service Broker API v2.17 over HTTP, every row of the response tables of the
 * routes dbaas serves, on real PostgreSQL, MariaDB and Redis: bindings are proven by
 * logging in with the credentials they return.
 */
describe('Open Service Broker API (e2e)', () => {
  let stack: TestStack;
  let osb: HttpClient;
  let services: Service[];
  const offer: Record<string, { service_id: string; plan_id: string }> = {};

  const v2 = (
    client: HttpClient,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => client.request(method, path, { body, headers: { ...VERSION, ...headers } });
  const put = (path: string, body: unknown, headers?: Record<string, string>) =>
    v2(osb, 'PUT', path, body, headers);
  const get = (path: string) => v2(osb, 'GET', path);
  const del = (path: string, headers?: Record<string, string>) =>
    v2(osb, 'DELETE', path, undefined, headers);
  const instancePath = (id: string, query = '') => `/v2/service_instances/${id}${query}`;
  const q = (o: { service_id: string; plan_id: string }, extra = '') =>
    `?service_id=${o.service_id}&plan_id=${o.plan_id}${extra}`;

  /** Polls last_operation until it leaves `in progress`. */
  async function poll(id: string, operation: string): Promise<Answer> {
    for (let i = 0; i < 100; i++) {
      const answer = await get(
        instancePath(id, `/last_operation?operation=${encodeURIComponent(operation)}`),
      );
      if (answer.status !== 200 || answer.body.state !== 'in progress') return answer;
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('last_operation never left "in progress"');
  }

  function expectBrokerError(answer: Answer, status: number, error?: string): void {
    expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({
      status,
      type: expect.stringContaining('application/json'),
    });
    expect(answer.body).toEqual(
      expect.objectContaining({
        error: error ?? expect.any(String),
        description: expect.any(String),
      }),
    );
    expect(answer.body.description.length).toBeGreaterThan(0);
    expect(answer.body).not.toHaveProperty('type');
  }

  beforeAll(async () => {
    stack = await startStack({ engines: true });
    for (const [username, password, teams] of [
      ['platform', 'platform-pass-1', [1]],
      ['platform2', 'platform-pass-2', [1, 2]],
    ] as const) {
      const created = await stack.http.post('/api/user/', {
        username,
        password,
        role: 'broker',
        teams,
      });
      expect(created.status).toBe(201);
    }
    osb = stack.http.as(BROKER);
    const catalog = await get('/v2/catalog');
    expect(catalog.status).toBe(200);
    services = catalog.body.services;
    for (const service of services) {
      for (const plan of service.plans)
        offer[plan.name] = { service_id: service.id, plan_id: plan.id };
    }
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('headers, login and roles', () => {
    it('answers 401 without a login or with a wrong one, in the broker error format', async () => {
      for (const auth of [null, 'platform:wrong']) {
        const answer = await v2(stack.http.as(auth), 'GET', '/v2/catalog');
        expectBrokerError(answer, 401, 'Unauthorized');
        expect(answer.headers.get('www-authenticate')).toBe('Basic realm="dbaas"');
      }
    });

    it('refuses a regular user with 403; a dba may use the broker', async () => {
      expectBrokerError(
        await v2(stack.http.as('user:123456'), 'GET', '/v2/catalog'),
        403,
        'Forbidden',
      );
      expect((await v2(stack.http, 'GET', '/v2/catalog')).status).toBe(200);
    });

    it('answers 412 when X-Broker-API-Version is missing, malformed or older than 2.13', async () => {
      expectBrokerError(await osb.get('/v2/catalog'), 412, 'PreconditionFailed');
      for (const version of ['2.12', '1.17', '3.0', 'latest', '']) {
        const answer = await v2(osb, 'GET', '/v2/catalog', undefined, {
          'X-Broker-API-Version': version,
        });
        expectBrokerError(answer, 412, 'PreconditionFailed');
      }
      for (const version of ['2.13', '2.16', '2.17', '2.18']) {
        const answer = await v2(osb, 'GET', '/v2/catalog', undefined, {
          'X-Broker-API-Version': version,
        });
        expect([version, answer.status]).toEqual([version, 200]);
      }
    });

    it('echoes X-Broker-API-Request-Identity', async () => {
      const answer = await v2(osb, 'GET', '/v2/catalog', undefined, {
        'X-Broker-API-Request-Identity': 'req-42',
      });
      expect(answer.headers.get('x-broker-api-request-identity')).toBe('req-42');
    });
  });

  describe('GET /v2/catalog', () => {
    it('has one service per engine type and one plan per plan and environment, with stable UUIDs', async () => {
      expect(services.map((s) => s.name).sort()).toEqual([
        'dbaas-mongodb',
        'dbaas-mysql',
        'dbaas-postgresql',
        'dbaas-redis',
      ]);
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
      const ids = services.flatMap((s) => [s.id, ...s.plans.map((p) => p.id)]);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(uuid);
      for (const service of services) {
        expect(service).toMatchObject({
          bindable: true,
          instances_retrievable: true,
          bindings_retrievable: true,
          plan_updateable: true,
        });
        expect(service.description).toMatch(/quarantine/);
        expect(service.plans.map((p) => p.name).sort()).toEqual(
          expect.arrayContaining([expect.stringMatching(/-dev$/), expect.stringMatching(/-prod$/)]),
        );
        expect(service.plans).toHaveLength(2);
        for (const plan of service.plans) {
          expect(plan.name).toMatch(/^[A-Za-z0-9.-]+$/);
          expect(plan.description).toMatch(/quarantine.*a dba can restore it/);
          expect(plan.description.length).toBeLessThanOrEqual(255);
        }
      }
      expect(offer['postgresql-small-dev']).toBeDefined();
      const again = await get('/v2/catalog');
      expect(again.body.services).toEqual(services);
    });

    it('publishes the parameter schemas (JSON schema draft 4)', () => {
      const plan = services[0].plans[0] as unknown as { schemas: any };
      expect(plan.schemas.service_instance.create.parameters).toMatchObject({
        $schema: 'http://json-schema.org/draft-04/schema#',
        properties: { name: expect.any(Object), team: expect.any(Object) },
      });
      expect(plan.schemas.service_binding.create.parameters.properties.privileges.enum).toEqual([
        'owner',
        'read-write',
        'read-only',
      ]);
    });

    it('drops a plan when it is deactivated, and keeps the ids of the others', async () => {
      const plan = await stack.http.post('/api/plan/', {
        name: 'pg-extra',
        engine: 1,
        environments: [1],
      });
      expect(plan.status).toBe(201);
      const withExtra = (await get('/v2/catalog')).body.services as Service[];
      const pg = withExtra.find((s) => s.name === 'dbaas-postgresql')!;
      expect(pg.plans.map((p) => p.name)).toContain('pg-extra-dev');
      await stack.http.patch(`/api/plan/${plan.body.id}/`, { is_active: false });
      expect((await get('/v2/catalog')).body.services).toEqual(services);
    });
  });

  describe('provisioning, fetching, binding and deprovisioning (PostgreSQL, synchronous)', () => {
    const id = newId();
    const bindingId = newId();
    let pgOffer: { service_id: string; plan_id: string };
    let credentials: Record<string, any>;
    let databaseId: number;
    const identity = `cloudfoundry ${Buffer.from(JSON.stringify({ user_id: '683ea748-3092-4ff4' })).toString('base64')}`;

    beforeAll(() => {
      pgOffer = offer['postgresql-small-dev'];
    });

    it('PUT: 201, a database osb_<hex of the id> in the broker user’s team, context recorded', async () => {
      const answer = await put(
        instancePath(id),
        { ...pgOffer, ...ORG, context: CONTEXT, 'x-vendor-field': 1 },
        {
          'X-Broker-API-Originating-Identity': identity,
        },
      );
      expect(answer.status).toBe(201);
      expect(answer.body.metadata.labels['dbaas-database']).toBe(`osb_${hex(id)}`);
      const list = await stack.http.get(`/api/database/?name=osb_${hex(id)}`);
      expect(list.body.database).toHaveLength(1);
      const database = list.body.database[0];
      databaseId = database.id;
      expect(database).toMatchObject({ status: 'ready', team: `${stack.api.baseUrl}/api/team/1/` });
      expect(database.description).toContain(id);
      const [row] = await stack.metadata('SELECT * FROM broker_instance WHERE instance_id = $1', [
        id,
      ]);
      expect(row).toMatchObject({
        context: CONTEXT,
        organization_guid: 'org-guid-1',
        space_guid: 'space-guid-1',
        database_id: databaseId,
        state: 'succeeded',
      });
    });

    it('records X-Broker-API-Originating-Identity in the task history', async () => {
      const tasks = await stack.http.get(`/api/task/?database=${databaseId}`);
      expect(tasks.status).toBe(200);
      const create = tasks.body.task.find((t: { type: string }) => t.type === 'create_database');
      expect(create.origin).toContain('cloudfoundry');
      expect(create.origin).toContain('683ea748-3092-4ff4');
    });

    it('PUT again: 200 with the same attributes, 409 with other parameters, plan or space', async () => {
      const same = await put(instancePath(id), {
        ...pgOffer,
        ...ORG,
        context: { ...CONTEXT, extra: 'ignored' },
      });
      expect(same.status).toBe(200);
      expect(same.body.metadata.labels['dbaas-database']).toBe(`osb_${hex(id)}`);
      expectBrokerError(
        await put(instancePath(id), { ...pgOffer, ...ORG, parameters: { description: 'other' } }),
        409,
        'Conflict',
      );
      expectBrokerError(
        await put(instancePath(id), { ...offer['postgresql-small-prod'], ...ORG }),
        409,
        'Conflict',
      );
      expectBrokerError(
        await put(instancePath(id), { ...pgOffer, ...ORG, space_guid: 'other' }),
        409,
        'Conflict',
      );
      expect(
        await stack.metadata('SELECT id FROM database WHERE name = $1', [`osb_${hex(id)}`]),
      ).toHaveLength(1);
    });

    it('GET the instance: 200 with service, plan and parameters; unknown: 404', async () => {
      const answer = await get(instancePath(id));
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        ...pgOffer,
        parameters: {},
        metadata: {
          labels: { 'dbaas-database': `osb_${hex(id)}`, 'dbaas-database-id': String(databaseId) },
        },
      });
      expectBrokerError(await get(instancePath(newId())), 404, 'NotFound');
    });

    it('binds: 201 with credentials that log in to PostgreSQL, and a JDBC URL', async () => {
      const answer = await put(`${instancePath(id)}/service_bindings/${bindingId}`, {
        ...pgOffer,
        bind_resource: { app_guid: 'app-1' },
        context: CONTEXT,
      });
      expect(answer.status).toBe(201);
      credentials = answer.body.credentials;
      const host = stack.pg.address.split(':')[0];
      const port = Number(stack.pg.address.split(':')[1]);
      expect(credentials).toMatchObject({
        host,
        port,
        database: `osb_${hex(id)}`,
        username: expect.stringMatching(/^b_[0-9a-f]{24}$/),
      });
      expect(credentials.uri).toBe(
        `postgresql://${credentials.username}:${encodeURIComponent(credentials.password)}@${host}:${port}/osb_${hex(id)}`,
      );
      expect(credentials.jdbcUrl).toBe(
        `jdbc:postgresql://${host}:${port}/osb_${hex(id)}?user=${credentials.username}&password=${encodeURIComponent(credentials.password)}`,
      );
      expect(answer.body.endpoints).toEqual([{ host, ports: [String(port)], protocol: 'tcp' }]);
      const client = new Client({ connectionString: credentials.uri });
      await client.connect();
      await client.query('CREATE TABLE orders (id int)');
      expect((await client.query('SELECT current_database() AS db')).rows[0].db).toBe(
        `osb_${hex(id)}`,
      );
      await client.end();
    });

    it('binds again: 200 with the same credential; 409 with other parameters, app or instance', async () => {
      const path = `${instancePath(id)}/service_bindings/${bindingId}`;
      const same = await put(path, { ...pgOffer, bind_resource: { app_guid: 'app-1' } });
      expect(same.status).toBe(200);
      expect(same.body.credentials).toEqual(credentials);
      expectBrokerError(
        await put(path, { ...pgOffer, bind_resource: { app_guid: 'app-2' } }),
        409,
        'Conflict',
      );
      expectBrokerError(
        await put(path, {
          ...pgOffer,
          bind_resource: { app_guid: 'app-1' },
          parameters: { privileges: 'read-only' },
        }),
        409,
        'Conflict',
      );
    });

    it('binds a read-only credential that cannot write', async () => {
      const answer = await put(`${instancePath(id)}/service_bindings/${newId()}`, {
        ...pgOffer,
        parameters: { privileges: 'read-only' },
      });
      expect(answer.status).toBe(201);
      const client = new Client({ connectionString: answer.body.credentials.uri });
      await client.connect();
      await expect(client.query('INSERT INTO orders VALUES (1)')).rejects.toThrow(
        /permission denied/,
      );
      await client.end();
    });

    it('binding requests: 400 for a malformed body, bad parameters, unknown instance or other service', async () => {
      const path = `${instancePath(id)}/service_bindings/${newId()}`;
      expectBrokerError(await put(path, { plan_id: pgOffer.plan_id }), 400, 'BadRequest');
      expectBrokerError(await put(path, [pgOffer]), 400, 'BadRequest');
      expectBrokerError(
        await put(path, { ...pgOffer, parameters: { privileges: 'root' } }),
        400,
        'BadRequest',
      );
      expectBrokerError(
        await put(path, { ...pgOffer, parameters: { other: 1 } }),
        400,
        'BadRequest',
      );
      expectBrokerError(await put(path, { ...offer['redis-small-dev'] }), 400, 'BadRequest');
      expectBrokerError(
        await put(`${instancePath(newId())}/service_bindings/${newId()}`, pgOffer),
        400,
        'BadRequest',
      );
    });

    it('GET the binding: 200 with credentials and parameters; unknown: 404', async () => {
      const answer = await get(`${instancePath(id)}/service_bindings/${bindingId}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ credentials, parameters: {} });
      expectBrokerError(
        await get(`${instancePath(id)}/service_bindings/${newId()}`),
        404,
        'NotFound',
      );
    });

    it('unbinds: 400 without service_id/plan_id, 200 {} (the login stops working), then 410', async () => {
      const path = `${instancePath(id)}/service_bindings/${bindingId}`;
      expectBrokerError(await del(path), 400, 'BadRequest');
      expectBrokerError(await del(`${path}?service_id=${pgOffer.service_id}`), 400, 'BadRequest');
      const answer = await del(`${path}${q(pgOffer)}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({});
      const client = new Client({ connectionString: credentials.uri });
      await expect(client.connect()).rejects.toThrow();
      const gone = await del(`${path}${q(pgOffer)}`);
      expect(gone.status).toBe(410);
      expect(gone.body).toEqual({});
      expectBrokerError(await get(path), 404, 'NotFound');
    });

    it('deprovisions: 400 without service_id/plan_id, 200 {}; the database is in quarantine and a dba can restore it', async () => {
      expectBrokerError(await del(instancePath(id)), 400, 'BadRequest');
      expectBrokerError(
        await del(instancePath(id, q(offer['postgresql-small-prod']))),
        400,
        'BadRequest',
      );
      const answer = await del(instancePath(id, q(pgOffer)));
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({});
      const database = await stack.http.get(`/api/database/${databaseId}/`);
      expect(database.body.status).toBe('quarantined');
      expectBrokerError(await get(instancePath(id)), 404, 'NotFound');
      const again = await del(instancePath(id, q(pgOffer)));
      expect(again.status).toBe(410);
      expect(again.body).toEqual({});
      expectBrokerError(await put(instancePath(id), { ...pgOffer, ...ORG }), 409, 'Conflict');
      expect((await stack.http.post(`/api/database/${databaseId}/restore/`)).status).toBe(200);
      expect((await stack.http.get(`/api/database/${databaseId}/`)).body.status).toBe('ready');
    });

    it('unbinds a binding that holds the last owner credential (the default one was deleted)', async () => {
      const other = newId();
      const otherBinding = newId();
      expect((await put(instancePath(other), { ...pgOffer, ...ORG })).status).toBe(201);
      const path = `${instancePath(other)}/service_bindings/${otherBinding}`;
      const bound = await put(path, pgOffer);
      expect(bound.status).toBe(201);
      const [owner] = await stack.metadata<{ id: number }>(
        `SELECT c.id FROM credential c JOIN database d ON d.id = c.database_id WHERE d.name = $1 AND c."user" = $2`,
        [`osb_${hex(other)}`, `u_osb_${hex(other)}`],
      );
      expect((await stack.http.delete(`/api/credential/${owner.id}/`)).status).toBe(204);
      const answer = await del(`${path}${q(pgOffer)}`);
      expect(answer.status).toBe(200);
      const client = new Client({ connectionString: bound.body.credentials.uri });
      await expect(client.connect()).rejects.toThrow(
        /password authentication failed|does not exist/,
      );
      expect((await del(instancePath(other, q(pgOffer)))).status).toBe(200);
    });

    it('DELETE of an unknown instance: 410 {}', async () => {
      const answer = await del(instancePath(newId(), q(pgOffer)));
      expect(answer.status).toBe(410);
      expect(answer.body).toEqual({});
    });
  });

  describe('asynchronous provisioning and deprovisioning (MariaDB)', () => {
    const id = newId();
    let mysqlOffer: { service_id: string; plan_id: string };
    let databaseId: number;

    beforeAll(() => {
      mysqlOffer = offer['mysql-small-dev'];
    });

    it('PUT with accepts_incomplete=true: 202 with an operation, last_operation until succeeded', async () => {
      // Another session holds the new database's lock, so the provisioning stays in progress
      // for as long as the test needs: the repeated PUT meets it running, not finished.
      const holder = new Client({ connectionString: stack.metadataUrl });
      await holder.connect();
      const lockId = createHash('sha256')
        .update('database:1:shop_orders')
        .digest()
        .readBigInt64BE(0)
        .toString();
      await holder.query('SELECT pg_advisory_lock($1)', [lockId]);
      let answer: Answer;
      try {
        answer = await put(instancePath(id, '?accepts_incomplete=true'), {
          ...mysqlOffer,
          ...ORG,
          context: CONTEXT,
          parameters: { name: 'Shop Orders' },
        });
        expect(answer.status).toBe(202);
        expect(answer.body.operation).toMatch(/^provision-/);
        const again = await put(instancePath(id, '?accepts_incomplete=true'), {
          ...mysqlOffer,
          ...ORG,
          parameters: { name: 'Shop Orders' },
        });
        expect(again.status).toBe(202);
        expect(again.body).toEqual({ operation: answer.body.operation });
      } finally {
        await holder.query('SELECT pg_advisory_unlock($1)', [lockId]);
        await holder.end();
      }
      const done = await poll(id, answer.body.operation);
      expect(done.status).toBe(200);
      expect(done.body).toEqual({
        state: 'succeeded',
        description: 'The database shop_orders is ready.',
      });
      const fetched = await get(instancePath(id));
      expect(fetched.status).toBe(200);
      expect(fetched.body.parameters).toEqual({ name: 'Shop Orders' });
      databaseId = Number(fetched.body.metadata.labels['dbaas-database-id']);
      // Once provisioned, the same PUT is answered 200 with the instance's metadata.
      const finished = await put(instancePath(id, '?accepts_incomplete=true'), {
        ...mysqlOffer,
        ...ORG,
        parameters: { name: 'Shop Orders' },
      });
      expect(finished.status).toBe(200);
      expect(finished.body).toEqual({ metadata: fetched.body.metadata });
    });

    it('binds MariaDB credentials (jdbc:mysql) that log in', async () => {
      const bindingId = newId();
      const answer = await put(
        `${instancePath(id)}/service_bindings/${bindingId}?accepts_incomplete=true`,
        mysqlOffer,
      );
      expect(answer.status).toBe(201);
      const c = answer.body.credentials;
      expect(c.uri).toMatch(/^mysql:\/\//);
      expect(c.jdbcUrl).toBe(
        `jdbc:mysql://${c.host}:${c.port}/shop_orders?user=${c.username}&password=${encodeURIComponent(c.password)}`,
      );
      const connection = await createConnection({
        host: c.host,
        port: c.port,
        user: c.username,
        password: c.password,
        database: c.database,
      });
      await connection.query('CREATE TABLE t (id int)');
      await connection.end();
      expect(
        (await del(`${instancePath(id)}/service_bindings/${bindingId}${q(mysqlOffer)}`)).status,
      ).toBe(200);
    });

    it('DELETE with accepts_incomplete=true: 202, last_operation succeeded; 410 once the dba removed it for good', async () => {
      const answer = await del(instancePath(id, q(mysqlOffer, '&accepts_incomplete=true')));
      expect(answer.status).toBe(202);
      expect(answer.body.operation).toMatch(/^deprovision-/);
      const done = await poll(id, answer.body.operation);
      expect(done.body).toMatchObject({
        state: 'succeeded',
        description: expect.stringContaining('quarantine'),
      });
      expect((await stack.http.get(`/api/database/${databaseId}/`)).body.status).toBe(
        'quarantined',
      );
      expect((await stack.http.delete(`/api/database/${databaseId}/`)).status).toBe(204);
      const gone = await get(
        instancePath(id, `/last_operation?operation=${answer.body.operation}`),
      );
      expect(gone.status).toBe(410);
    });

    it('last_operation: 404 for an unknown instance, 400 for an empty operation or another service', async () => {
      expectBrokerError(await get(instancePath(newId(), '/last_operation')), 404, 'NotFound');
      expectBrokerError(
        await get(instancePath(id, '/last_operation?operation=')),
        400,
        'BadRequest',
      );
      expectBrokerError(
        await get(
          instancePath(id, `/last_operation?service_id=${offer['redis-small-dev'].service_id}`),
        ),
        400,
        'BadRequest',
      );
    });
  });

  describe('Redis, parameters and malformed requests', () => {
    it('provisions Redis with a name, binds a login limited to the key prefix; vendor fields are ignored', async () => {
      const id = newId();
      const redisOffer = offer['redis-small-dev'];
      const created = await put(instancePath(id), {
        ...redisOffer,
        ...ORG,
        'x-extension': { a: 1 },
        parameters: { name: 'osb cache', description: 'sessions' },
      });
      expect(created.status).toBe(201);
      const bound = await put(`${instancePath(id)}/service_bindings/${newId()}`, {
        ...redisOffer,
        app_guid: 'app-9',
      });
      expect(bound.status).toBe(201);
      const c = bound.body.credentials;
      expect(c).toMatchObject({ database: 'osb_cache', key_prefix: 'osb_cache:' });
      expect(c.uri).toMatch(/^redis:\/\//);
      expect(c.jdbcUrl).toBeUndefined();
      const redis = new Redis(c.uri, { lazyConnect: true, maxRetriesPerRequest: 0 });
      await redis.connect();
      try {
        await redis.set('osb_cache:k', 'v');
        expect(await redis.get('osb_cache:k')).toBe('v');
        await expect(redis.set('other:k', 'v')).rejects.toThrow(/NOPERM/);
      } finally {
        redis.disconnect();
      }
    });

    it('PUT: 400 for a malformed body, unknown plan, plan of another service, bad parameters or name', async () => {
      const pgOffer = offer['postgresql-small-dev'];
      const path = instancePath(newId());
      for (const body of [
        [pgOffer],
        { plan_id: pgOffer.plan_id, ...ORG },
        { ...pgOffer, organization_guid: 'org' },
        { ...pgOffer, ...ORG, service_id: 7 },
        { ...pgOffer, ...ORG, plan_id: 'no-such-plan' },
        { service_id: pgOffer.service_id, plan_id: offer['redis-small-dev'].plan_id, ...ORG },
        { ...pgOffer, ...ORG, parameters: 'name=x' },
        { ...pgOffer, ...ORG, parameters: { size: 10 } },
        { ...pgOffer, ...ORG, parameters: { team: 'one' } },
        { ...pgOffer, ...ORG, parameters: { team: 2 } },
        { ...pgOffer, ...ORG, parameters: { name: '42' } },
      ]) {
        const answer = await put(path, body);
        expect([JSON.stringify(body), answer.status]).toEqual([JSON.stringify(body), 400]);
        expectBrokerError(answer, 400, 'BadRequest');
      }
      const notJson = await osb.request('PUT', path, { raw: '{"service_id":', headers: VERSION });
      expect(notJson.status).toBe(400);
      expect(
        await stack.metadata('SELECT 1 FROM broker_instance WHERE instance_id = $1', [
          path.split('/').pop(),
        ]),
      ).toEqual([]);
    });

    it('PUT with maintenance_info: 422 MaintenanceInfoConflict (the catalog announces none)', async () => {
      const answer = await put(instancePath(newId()), {
        ...offer['postgresql-small-dev'],
        ...ORG,
        maintenance_info: { version: '1.0.0' },
      });
      expectBrokerError(answer, 422, 'MaintenanceInfoConflict');
    });

    it('a refused synchronous PUT (name taken) leaves nothing behind: the same id then provisions', async () => {
      const id = newId();
      const pgOffer = offer['postgresql-small-dev'];
      const taken = await put(instancePath(id), {
        ...pgOffer,
        ...ORG,
        parameters: { name: 'my_first_database' },
      });
      expectBrokerError(taken, 400, 'BadRequest');
      expect(
        await stack.metadata('SELECT 1 FROM broker_instance WHERE instance_id = $1', [id]),
      ).toEqual([]);
      expect(
        (
          await put(instancePath(id), {
            ...pgOffer,
            ...ORG,
            parameters: { name: 'broker_second_try' },
          })
        ).status,
      ).toBe(201);
    });

    it('a broker user in several teams must name one; other teams’ instances look absent', async () => {
      const two = stack.http.as(BROKER_TWO_TEAMS);
      const pgOffer = offer['postgresql-small-dev'];
      const id = newId();
      expectBrokerError(
        await v2(two, 'PUT', instancePath(id), { ...pgOffer, ...ORG }),
        400,
        'BadRequest',
      );
      const created = await v2(two, 'PUT', instancePath(id), {
        ...pgOffer,
        ...ORG,
        parameters: { team: 2 },
      });
      expect(created.status).toBe(201);
      expectBrokerError(await get(instancePath(id)), 404, 'NotFound');
      expect((await del(instancePath(id, q(pgOffer)))).status).toBe(410);
      expectBrokerError(await put(instancePath(id), { ...pgOffer, ...ORG }), 409, 'Conflict');
      expect((await v2(two, 'GET', instancePath(id))).status).toBe(200);
    });
  });

  describe('operations in progress: 202 again, AsyncRequired, ConcurrencyError, interrupted operations', () => {
    const id = newId();
    let pgOffer: { service_id: string; plan_id: string };
    const setState = (operation: string, state: string, age = '0 seconds') =>
      stack.metadata(
        `UPDATE broker_instance SET operation = $2::varchar, state = $3::varchar, operation_id = $2::varchar || '-0123456789abcdef', updated_at = now() - $4::interval WHERE instance_id = $1`,
        [id, operation, state, age],
      );

    beforeAll(async () => {
      pgOffer = offer['postgresql-small-dev'];
      expect((await put(instancePath(id), { ...pgOffer, ...ORG })).status).toBe(201);
    });

    it('while provisioning: 202 with the same operation, or 422 AsyncRequired without accepts_incomplete', async () => {
      await setState('provision', 'in progress');
      const async = await put(instancePath(id, '?accepts_incomplete=true'), { ...pgOffer, ...ORG });
      expect(async.status).toBe(202);
      expect(async.body).toEqual({ operation: 'provision-0123456789abcdef' });
      expectBrokerError(await put(instancePath(id), { ...pgOffer, ...ORG }), 422, 'AsyncRequired');
      expectBrokerError(
        await put(instancePath(id, '?accepts_incomplete=true'), {
          ...pgOffer,
          ...ORG,
          parameters: { description: 'x' },
        }),
        409,
        'Conflict',
      );
      const polled = await get(instancePath(id, '/last_operation'));
      expect(polled.body.state).toBe('in progress');
      expect(polled.headers.get('retry-after')).toBe('1');
      expectBrokerError(await get(instancePath(id)), 404, 'NotFound');
      expectBrokerError(await del(instancePath(id, q(pgOffer))), 422, 'ConcurrencyError');
      expectBrokerError(
        await put(`${instancePath(id)}/service_bindings/${newId()}`, pgOffer),
        422,
        'ConcurrencyError',
      );
    });

    it('while deprovisioning: GET 422 ConcurrencyError, DELETE 202 again or 422 without accepts_incomplete', async () => {
      await setState('deprovision', 'in progress');
      expectBrokerError(await get(instancePath(id)), 422, 'ConcurrencyError');
      const again = await del(instancePath(id, q(pgOffer, '&accepts_incomplete=true')));
      expect(again.status).toBe(202);
      expect(again.body).toEqual({ operation: 'deprovision-0123456789abcdef' });
      expectBrokerError(await del(instancePath(id, q(pgOffer))), 422, 'ConcurrencyError');
    });

    it('an operation cut off by a dead process is reported failed, then DELETE cleans up', async () => {
      await setState('provision', 'in progress', '10 minutes');
      const polled = await get(instancePath(id, '/last_operation'));
      expect(polled.body).toEqual({
        state: 'failed',
        description: expect.stringContaining('interrupted'),
      });
      const answer = await del(instancePath(id, q(pgOffer)));
      expect(answer.status).toBe(200);
      expect(
        (await stack.http.get(`/api/database/?name=osb_${hex(id)}&quarantine=true`)).body.database,
      ).toHaveLength(1);
    });
  });

  describe('orphan mitigation: a failed provisioning, then DELETE', () => {
    it('synchronous: 503 while the engine is down; the DELETE answers 200 and leaves nothing, then 410', async () => {
      const mysqlOffer = offer['mysql-small-dev'];
      const id = newId();
      await stack.mariadb!.stop();
      try {
        const failed = await put(instancePath(id), { ...mysqlOffer, ...ORG });
        expectBrokerError(failed, 503, 'ServiceUnavailable');
        expect(failed.headers.get('retry-after')).toMatch(/^\d+$/);
        expectBrokerError(await get(instancePath(id)), 404, 'NotFound');
        expect((await get(instancePath(id, '/last_operation'))).body.state).toBe('failed');

        const asyncId = newId();
        const accepted = await put(instancePath(asyncId, '?accepts_incomplete=true'), {
          ...mysqlOffer,
          ...ORG,
        });
        expect(accepted.status).toBe(202);
        const polled = await poll(asyncId, accepted.body.operation);
        expect(polled.body).toEqual({
          state: 'failed',
          description: expect.stringContaining('Provisioning failed'),
        });

        for (const orphan of [id, asyncId]) {
          const cleaned = await del(instancePath(orphan, q(mysqlOffer)));
          expect(cleaned.status).toBe(200);
          expect(cleaned.body).toEqual({});
          expect((await del(instancePath(orphan, q(mysqlOffer)))).status).toBe(410);
          expect(
            await stack.metadata('SELECT id FROM database WHERE name = $1', [`osb_${hex(orphan)}`]),
          ).toEqual([]);
        }
      } finally {
        await stack.mariadb!.start();
      }
    });

    it('a failed provisioning may be retried with the same id once the engine is back', async () => {
      const mysqlOffer = offer['mysql-small-dev'];
      const id = newId();
      await stack.mariadb!.stop();
      try {
        expect((await put(instancePath(id), { ...mysqlOffer, ...ORG })).status).toBe(503);
      } finally {
        await stack.mariadb!.start();
      }
      expect((await put(instancePath(id), { ...mysqlOffer, ...ORG })).status).toBe(201);
      expect((await get(instancePath(id))).status).toBe(200);
    });
  });
});
