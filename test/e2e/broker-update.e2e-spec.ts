import { Client } from 'pg';
import { EngineServer, startPostgres } from '../harness';
import { Answer, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

const VERSION = { 'X-Broker-API-Version': '2.17' };
const BROKER = 'platform:platform-pass-1';
const ORG = { organization_guid: 'org-guid-1', space_guid: 'space-guid-1' };

interface CatalogPlan {
  id: string;
  plan_updateable: boolean;
  metadata: { dbaas: { plan: number; environment: number } };
  schemas: { service_instance: { update?: { parameters: { properties: object } } } };
}
interface CatalogService {
  id: string;
  plan_updateable: boolean;
  plans: CatalogPlan[];
}

/**
 * Open Service Broker update (PATCH /v2/service_instances/{id}, SPEC §10) on real
 * PostgreSQL servers: a plan the database's server serves changes synchronously (200)
 * with the parameters description, tags and is_protected; a plan served by a second
 * server only moves the database (202, last_operation polled with the operation), and a
 * binding made before the move logs in on the new server with its same password.
 * Anything else is a 422 with an OSB error body; version and login checks as on every
 * /v2 route.
 */
describe('Open Service Broker update (e2e)', () => {
  let stack: TestStack;
  let osb: HttpClient;
  let serverB: EngineServer;
  let services: CatalogService[];
  const plans: Record<string, number> = {};

  const v2 = (
    client: HttpClient,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = VERSION,
  ) => client.request(method, path, { body, headers });
  const instancePath = (id: string, query = '') => `/v2/service_instances/${id}${query}`;

  /** The catalog plan of a dbaas plan in an environment. */
  function offerOf(plan: number, environment = 1): { service_id: string; plan_id: string } {
    for (const service of services) {
      const found = service.plans.find(
        (p) => p.metadata.dbaas.plan === plan && p.metadata.dbaas.environment === environment,
      );
      if (found) return { service_id: service.id, plan_id: found.id };
    }
    throw new Error(`no catalog plan for plan ${plan} in environment ${environment}`);
  }

  function expectBrokerError(answer: Answer, status: number, error: string): void {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toContain('application/json');
    expect(answer.body).toEqual({ error, description: expect.any(String) });
  }

  async function poll(id: string, operation: string): Promise<Answer> {
    for (let i = 0; i < 600; i++) {
      const answer = await v2(
        osb,
        'GET',
        instancePath(id, `/last_operation?operation=${encodeURIComponent(operation)}`),
      );
      if (answer.status !== 200 || answer.body.state !== 'in progress') return answer;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('last_operation never left "in progress"');
  }

  async function provision(id: string, name: string) {
    const answer = await v2(osb, 'PUT', instancePath(id), {
      ...offerOf(1),
      ...ORG,
      parameters: { name },
    });
    expect(answer.status).toBe(201);
    return answer.body.metadata as { dbaas_database_id?: number } & Record<string, unknown>;
  }

  async function databaseNamed(name: string) {
    const [row] = await stack.metadata<{ id: number }>('SELECT id FROM database WHERE name = $1', [
      name,
    ]);
    return (await stack.http.get(`/api/database/${row.id}/`)).body;
  }

  beforeAll(async () => {
    stack = await startStack({
      engines: true,
      sampleDatabases: false,
      env: { DBAAS_RECONCILE_INTERVAL_SECONDS: '1' },
    });
    serverB = await startPostgres();
    const user = await stack.http.post('/api/user/', {
      username: 'platform',
      password: 'platform-pass-1',
      role: 'broker',
      teams: [1],
    });
    expect(user.status).toBe(201);
    osb = stack.http.as(BROKER);
    for (const [name, environments] of [
      ['pg-wide', [1]],
      ['pg-big', [1]],
      ['pg-prod', [2]],
    ] as const) {
      const plan = await stack.http.post('/api/plan/', { name, engine: 1, environments });
      expect(plan.status).toBe(201);
      plans[name] = plan.body.id;
    }
    expect((await stack.http.patch('/api/infra/1/', { plans: [1, plans['pg-wide']] })).status).toBe(
      200,
    );
    const infra = await stack.http.post('/api/infra/', {
      name: 'postgresql-b',
      engine: 1,
      plan: plans['pg-big'],
      environment: 1,
      addresses: [serverB.address],
      admin_user: serverB.adminUser,
      admin_password: serverB.adminPassword,
      capacity: 10,
    });
    expect(infra.status).toBe(201);
    const catalog = await v2(osb, 'GET', '/v2/catalog');
    expect(catalog.status).toBe(200);
    services = catalog.body.services;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    await serverB?.destroy();
  });

  it('announces plan_updateable and the update parameters in the catalog', () => {
    for (const service of services) {
      expect(service.plan_updateable).toBe(true);
      for (const plan of service.plans) {
        expect(plan.plan_updateable).toBe(true);
        expect(Object.keys(plan.schemas.service_instance.update!.parameters.properties)).toEqual([
          'description',
          'tags',
          'is_protected',
        ]);
      }
    }
  });

  it('checks the version header and the login as on every /v2 route', async () => {
    const id = 'upd-0001';
    await provision(id, 'upd_checks');
    const body = { ...offerOf(plans['pg-wide']) };
    expectBrokerError(
      await v2(osb, 'PATCH', instancePath(id), body, {}),
      412,
      'PreconditionFailed',
    );
    expectBrokerError(
      await v2(stack.http.as('platform:wrong'), 'PATCH', instancePath(id), body),
      401,
      'Unauthorized',
    );
    expectBrokerError(
      await v2(stack.http.as('user:123456'), 'PATCH', instancePath(id), body),
      403,
      'Forbidden',
    );
    expectBrokerError(await v2(osb, 'PATCH', instancePath('nope'), body), 404, 'NotFound');
    expect((await databaseNamed('upd_checks')).plan).toMatch(/\/api\/plan\/1\/$/);
  });

  it('a plan the server serves and the parameters: 200 at once', async () => {
    const id = 'upd-0002';
    await provision(id, 'upd_sync');
    const wide = offerOf(plans['pg-wide']);

    const answer = await v2(osb, 'PATCH', instancePath(id), {
      ...wide,
      parameters: { description: 'orders of the shop', tags: ['shop'], is_protected: true },
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({});
    const database = await databaseNamed('upd_sync');
    expect(database).toMatchObject({
      plan: expect.stringMatching(new RegExp(`/api/plan/${plans['pg-wide']}/$`)),
      description: 'orders of the shop',
      tags: ['shop'],
      is_protected: true,
      status: 'ready',
    });
    const fetched = await v2(osb, 'GET', instancePath(id));
    expect(fetched.body).toMatchObject({
      plan_id: wide.plan_id,
      parameters: { name: 'upd_sync', description: 'orders of the shop', is_protected: true },
    });
    // Protected: deprovisioning is refused.
    expectBrokerError(
      await v2(
        osb,
        'DELETE',
        instancePath(id, `?service_id=${wide.service_id}&plan_id=${wide.plan_id}`),
      ),
      422,
      'UnprocessableEntity',
    );
  });

  it('422 for another service’s plan, another environment’s plan, unknown or invalid parameters; nothing changed', async () => {
    const id = 'upd-0003';
    await provision(id, 'upd_refused');
    const pg = offerOf(1);
    const mysql = offerOf(2);
    const refused: object[] = [
      { service_id: pg.service_id, plan_id: mysql.plan_id },
      { ...mysql },
      { ...offerOf(plans['pg-prod'], 2) },
      { ...pg, parameters: { name: 'renamed' } },
      { ...pg, parameters: { is_protected: 'yes' } },
      { ...pg, parameters: { tags: ['Not A Tag'] } },
    ];
    for (const body of refused)
      expectBrokerError(await v2(osb, 'PATCH', instancePath(id), body), 422, 'UnprocessableEntity');
    expect(await databaseNamed('upd_refused')).toMatchObject({
      plan: expect.stringMatching(/\/api\/plan\/1\/$/),
      tags: [],
      is_protected: false,
      description: expect.not.stringMatching(/renamed/),
    });
  });

  it('a plan of another server: 422 AsyncRequired without accepts_incomplete, else 202 and a move; the binding logs in on the new server with its password', async () => {
    const id = 'upd-0004';
    await provision(id, 'upd_move');
    const pg = offerOf(1);
    const bound = await v2(osb, 'PUT', `${instancePath(id)}/service_bindings/bind-0004`, pg);
    expect(bound.status).toBe(201);
    const credentials = bound.body.credentials as { uri: string; password: string };
    const before = new Client({ connectionString: credentials.uri });
    await before.connect();
    try {
      await before.query('CREATE TABLE t (v text)');
      await before.query("INSERT INTO t VALUES ('kept')");
    } finally {
      await before.end();
    }
    const big = offerOf(plans['pg-big']);

    expectBrokerError(await v2(osb, 'PATCH', instancePath(id), { ...big }), 422, 'AsyncRequired');
    const answer = await v2(osb, 'PATCH', instancePath(id, '?accepts_incomplete=true'), {
      ...big,
    });

    expect(answer.status).toBe(202);
    expect(answer.body.operation).toMatch(/^update-\d+$/);
    const last = await poll(id, answer.body.operation);
    expect(last.body).toMatchObject({ state: 'succeeded' });
    const fetched = await v2(osb, 'GET', instancePath(id));
    expect(fetched.body.plan_id).toBe(big.plan_id);
    const database = await databaseNamed('upd_move');
    expect(database.endpoint).toContain(`:${serverB.port}`);
    // The same login and password, on the new server, with the data.
    const movedUri = credentials.uri.replace(/@[^/]+\//, `@${serverB.address}/`);
    const after = new Client({ connectionString: movedUri });
    await after.connect();
    try {
      expect((await after.query('SELECT v FROM t')).rows).toEqual([{ v: 'kept' }]);
    } finally {
      await after.end();
    }
  });
});
