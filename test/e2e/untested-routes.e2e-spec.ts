import { Client } from 'pg';
import { parse } from 'yaml';
import { Answer, expectProblem, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

const pathOf = (url: string) => new URL(url).pathname;

type Item = { _links: { self: string }; id: number } & Record<string, unknown>;

/**
 * Issue 14 item 7: the routes and list filters no test exercised before, on the built API
 * with real PostgreSQL, MariaDB and Redis servers. Every write is checked by reading the
 * resource back (a PUT or PATCH that answers 200 but stores nothing must fail), and every
 * filter by data it has to exclude (a filter that is ignored must fail).
 *
 * The tests run in order: later ones use what earlier ones made, and the last one stops the
 * metadata store.
 */
describe('routes never tested before (e2e, real engines)', () => {
  let stack: TestStack;
  let http: HttpClient;
  let base: string;
  const url = (path: string) => `${base}${path}`;

  beforeAll(async () => {
    stack = await startStack({ engines: true });
    http = stack.http;
    base = stack.api.baseUrl;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  /** Every item of a list (the test data stays under one page of 100). */
  async function all(resource: string, query = ''): Promise<Item[]> {
    const answer = await http.get(`/api/${resource}/?page_size=100${query}`);
    expect(answer.status).toBe(200);
    const items = answer.body[resource] as Item[];
    expect(answer.body._links.count).toBe(items.length);
    return items;
  }

  /** 201 with a Location that serves what the POST answered. */
  async function created(answer: Answer): Promise<Item> {
    expect([answer.status, answer.text]).toEqual([201, expect.any(String)]);
    expect(answer.headers.get('location')).toBe(answer.body._links.self);
    const read = await http.get(pathOf(answer.headers.get('location')!));
    // A database's used size is measured after the create answered.
    const stable = { ...answer.body };
    delete stable.used_size_in_bytes;
    expect(read.body).toMatchObject(stable);
    return answer.body;
  }

  /** A PUT or PATCH answered 200 with `expected`, and a later GET reads the same. */
  async function changes(
    method: 'PUT' | 'PATCH',
    path: string,
    body: unknown,
    expected: Record<string, unknown>,
    client = http,
  ) {
    const answer = await client.request(method, path, { body });
    expect([method, path, answer.status]).toEqual([method, path, 200]);
    expect(answer.body).toMatchObject(expected);
    expect((await client.get(path)).body).toMatchObject(expected);
  }

  describe('catalog writes', () => {
    it('deletes the unused MongoDB chain, renames an engine type with PUT, POSTs an engine type and an engine with valid bodies, and changes the engine with PUT and PATCH', async () => {
      const mongodbType = (await all('engine_type')).find((t) => t.name === 'mongodb')!;
      const typeUrl = mongodbType._links.self;
      const engine = (await all('engine')).find((e) => e.engine_type === typeUrl)!;
      for (const infra of (await all('infra')).filter((i) => i.engine === engine._links.self)) {
        expect((await http.delete(pathOf(infra._links.self))).status).toBe(204);
      }
      for (const plan of (await all('plan')).filter((p) => p.engine === engine._links.self)) {
        expect((await http.delete(pathOf(plan._links.self))).status).toBe(204);
      }
      expect((await http.delete(pathOf(engine._links.self))).status).toBe(204);
      expect((await http.delete(pathOf(typeUrl))).status).toBe(204);
      expectProblem(await http.get(pathOf(typeUrl)), 404);

      // Every engine type name is taken (unique, one of four) but the one just deleted: PUT
      // renames the redis type to it, and back at once.
      const redis = (await all('engine_type')).find((t) => t.name === 'redis')!;
      const redisPath = pathOf(redis._links.self);
      await changes('PUT', redisPath, { name: 'mongodb' }, { name: 'mongodb' });
      await changes('PUT', redisPath, { name: 'redis' }, { name: 'redis' });

      const type = await created(await http.post('/api/engine_type/', { name: 'mongodb' }));
      expect(type).toMatchObject({ name: 'mongodb' });
      expect(type.id).not.toBe(mongodbType.id);

      const newEngine = await created(
        await http.post('/api/engine/', { engine_type: pathOf(type._links.self), version: '7.0' }),
      );
      expect(newEngine).toMatchObject({ engine_type: type._links.self, version: '7.0' });
      const enginePath = pathOf(newEngine._links.self);
      await changes('PUT', enginePath, { version: '8.0' }, { version: '8.0' });
      await changes('PATCH', enginePath, { version: '8.1' }, { version: '8.1' });
      // Another engine type by PUT: the reference is stored, not only the version.
      await changes(
        'PUT',
        enginePath,
        { engine_type: '/api/engine_type/1/', version: '16' },
        { engine_type: url('/api/engine_type/1/'), version: '16' },
      );
      expect((await http.delete(enginePath)).status).toBe(204);
    });

    it('changes an environment, a plan and an infra with PUT', async () => {
      const environment = await created(await http.post('/api/environment/', { name: 'staging' }));
      await changes('PUT', pathOf(environment._links.self), { name: 'qa' }, { name: 'qa' });

      const plan = await created(
        await http.post('/api/plan/', {
          name: 'routes-plan',
          engine: '/api/engine/1/',
          environments: ['/api/environment/1/'],
        }),
      );
      expect(plan).toMatchObject({ size_limit_in_bytes: 0, is_active: true, is_default: false });
      const planPath = pathOf(plan._links.self);
      await changes(
        'PUT',
        planPath,
        {
          description: 'changed by PUT',
          environments: ['/api/environment/1/', environment._links.self],
          size_limit_in_bytes: 1024,
          is_active: false,
        },
        {
          name: 'routes-plan',
          description: 'changed by PUT',
          environments: [url('/api/environment/1/'), environment._links.self],
          size_limit_in_bytes: 1024,
          is_active: false,
        },
      );

      const infra = await created(
        await http.post('/api/infra/', {
          name: 'routes-infra',
          engine: '/api/engine/1/',
          plan: planPath,
          environment: '/api/environment/1/',
          addresses: [stack.pg.address],
          admin_user: stack.pg.adminUser,
          admin_password: stack.pg.adminPassword,
          capacity: 3,
        }),
      );
      await changes(
        'PUT',
        pathOf(infra._links.self),
        { name: 'routes-infra-2', capacity: 7, addresses: [stack.pg.address, '127.0.0.1:9'] },
        { name: 'routes-infra-2', capacity: 7, addresses: [stack.pg.address, '127.0.0.1:9'] },
      );
      for (const path of [pathOf(infra._links.self), planPath, pathOf(environment._links.self)]) {
        expect((await http.delete(path)).status).toBe(204);
      }
    });
  });

  describe('users, teams and projects', () => {
    let userPath: string;

    it('POSTs a user, then PATCH and PUT change role, password, teams and name; the login follows', async () => {
      const user = await created(
        await http.post('/api/user/', {
          username: 'routes_user',
          password: 'first-password',
          role: 'regular',
        }),
      );
      expect(user).toMatchObject({ username: 'routes_user', role: 'regular', teams: [] });
      userPath = pathOf(user._links.self);
      const first = http.as('routes_user:first-password');
      // A regular user lists only themselves; a dba every user.
      expect((await first.get('/api/user/')).body._links.count).toBe(1);

      await changes('PATCH', userPath, { role: 'dba' }, { role: 'dba' });
      expect((await first.get('/api/user/')).body._links.count).toBeGreaterThan(2);

      await changes('PATCH', userPath, { password: 'second-password' }, { role: 'dba' });
      expectProblem(await first.get('/api/user/'), 401);
      expect((await http.as('routes_user:second-password').get('/api/user/')).status).toBe(200);

      await changes(
        'PATCH',
        userPath,
        { teams: ['/api/team/2/'] },
        { teams: [url('/api/team/2/')] },
      );
      expect((await http.get('/api/team/2/')).body.users).toContain(user._links.self);

      await changes(
        'PUT',
        userPath,
        { username: 'routes_user2', role: 'regular', teams: [] },
        { username: 'routes_user2', role: 'regular', teams: [] },
      );
      expectProblem(await http.as('routes_user:second-password').get('/api/user/'), 401);
      const renamed = await http.as('routes_user2:second-password').get('/api/user/');
      expect(renamed.body._links.count).toBe(1);
    });

    it('POSTs a team with a member, and PATCH and PUT change its name and members', async () => {
      const team = await created(
        await http.post('/api/team/', { name: 'routes-team', users: [userPath] }),
      );
      expect(team).toMatchObject({ name: 'routes-team', users: [url(userPath)] });
      expect((await http.get(userPath)).body.teams).toEqual([team._links.self]);
      const teamPath = pathOf(team._links.self);

      await changes('PATCH', teamPath, { name: 'routes-team-2' }, { name: 'routes-team-2' });
      await changes('PUT', teamPath, { users: ['/api/user/1/'] }, { users: [url('/api/user/1/')] });
      expect((await http.get(userPath)).body.teams).toEqual([]);
      await changes('PATCH', teamPath, { users: [] }, { name: 'routes-team-2', users: [] });
      expect((await http.delete(teamPath)).status).toBe(204);
    });

    it('DELETEs a user: gone from the list, 404 to read, and the login stops working', async () => {
      expect((await http.delete(userPath)).status).toBe(204);
      expectProblem(await http.get(userPath), 404);
      expect((await all('user')).map((u) => u.username)).not.toContain('routes_user2');
      expectProblem(await http.as('routes_user2:second-password').get('/api/plan/'), 401);
    });

    it('POSTs a project, PATCH and PUT change it, DELETE removes it', async () => {
      const project = await created(
        await http.post('/api/project/', { name: 'routes-project', description: 'first' }),
      );
      const path = pathOf(project._links.self);
      await changes('PATCH', path, { description: 'by PATCH' }, { description: 'by PATCH' });
      await changes(
        'PUT',
        path,
        { name: 'routes-project-2' },
        { name: 'routes-project-2', description: 'by PATCH' },
      );
      expect((await http.delete(path)).status).toBe(204);
      expectProblem(await http.get(path), 404);
      expect((await all('project')).map((p) => p.name)).not.toContain('routes-project-2');
    });
  });

  describe('databases', () => {
    it('changes description and project of a database with PUT, and takes the project off again', async () => {
      const project = await created(await http.post('/api/project/', { name: 'routes-filing' }));
      await changes(
        'PUT',
        '/api/database/1/',
        { description: 'set by PUT', project: project._links.self },
        { description: 'set by PUT', project: project._links.self },
      );
      await changes('PUT', '/api/database/1/', { project: null }, { project: null });
    });

    it('answers 502 problem+json when the engine refuses the statement (an infra admin without CREATEROLE)', async () => {
      const weakPassword = 'weak-admin-password-7';
      const admin = new Client({ connectionString: stack.pg.url });
      await admin.connect();
      try {
        await admin.query(`CREATE ROLE routes_weak LOGIN PASSWORD '${weakPassword}'`);
      } finally {
        await admin.end();
      }
      const plan = await created(
        await http.post('/api/plan/', {
          name: 'routes-weak',
          engine: '/api/engine/1/',
          environments: ['/api/environment/1/'],
        }),
      );
      await created(
        await http.post('/api/infra/', {
          name: 'routes-weak-pg',
          engine: '/api/engine/1/',
          plan: plan._links.self,
          environment: '/api/environment/1/',
          addresses: [stack.pg.address],
          admin_user: 'routes_weak',
          admin_password: weakPassword,
          capacity: 10,
        }),
      );
      const refused = await http.post('/api/database/', {
        name: 'refused_db',
        plan: plan._links.self,
        environment: '/api/environment/1/',
      });
      expectProblem(refused, 502);
      expect(refused.body.type).toBe('https://dbaas.dev/problems/engine-error');
      expect(refused.text).not.toContain(weakPassword);
      expect(refused.text).not.toMatch(/permission denied/i);
      const failed = await all('task', '&type=create_database&status=error');
      expect(failed.map((t) => t.database_name)).toContain('refused_db');
    });
  });

  describe('list filters', () => {
    /**
     * The filtered list is exactly the unfiltered one narrowed by `keep`, non-empty, and
     * the unfiltered one holds something `keep` excludes (so an ignored filter fails).
     */
    async function expectFilter(
      resource: string,
      query: string,
      keep: (item: Item) => boolean,
    ): Promise<Item[]> {
      const everything = await all(resource);
      const filtered = await all(resource, `&${query}`);
      const expected = everything.filter(keep).map((item) => item.id);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(everything.length);
      expect([query, filtered.map((item) => item.id)]).toEqual([query, expected]);
      return filtered;
    }

    it('environment (databases): a database in prod is listed under prod only', async () => {
      await created(
        await http.post('/api/infra/', {
          name: 'routes-prod-pg',
          engine: '/api/engine/1/',
          plan: '/api/plan/1/',
          environment: '/api/environment/2/',
          addresses: [stack.pg.address],
          admin_user: stack.pg.adminUser,
          admin_password: stack.pg.adminPassword,
          capacity: 10,
        }),
      );
      const prod = await created(
        await http.post('/api/database/', {
          name: 'prod_db',
          plan: '/api/plan/1/',
          environment: '/api/environment/2/',
        }),
      );
      expect(prod.status).toBe('ready');
      const prodUrl = url('/api/environment/2/');
      const inProd = await expectFilter(
        'database',
        'environment=2',
        (d) => d.environment === prodUrl,
      );
      expect(inProd.map((d) => d.name)).toEqual(['prod_db']);
      const devUrl = url('/api/environment/1/');
      const inDev = await expectFilter(
        'database',
        'environment=1',
        (d) => d.environment === devUrl,
      );
      expect(inDev.map((d) => d.name)).toContain('my_first_database');
    });

    it('plan (databases)', async () => {
      const mysqlPlan = url('/api/plan/2/');
      const onMysql = await expectFilter('database', 'plan=2', (d) => d.plan === mysqlPlan);
      expect(onMysql.map((d) => d.name)).toEqual(['sample_mysql']);
    });

    it('database (credentials)', async () => {
      expect(
        (await http.post('/api/credential/', { user: 'routes_reader', database: 1 })).status,
      ).toBe(201);
      const first = url('/api/database/1/');
      const ofFirst = await expectFilter('credential', 'database=1', (c) => c.database === first);
      expect(ofFirst.map((c) => c.user).sort()).toEqual(['routes_reader', 'u_my_first_database']);
    });

    it('status and type (tasks)', async () => {
      const errors = await expectFilter('task', 'status=error', (t) => t.status === 'error');
      expect(errors.map((t) => t.database_name)).toContain('refused_db');
      await expectFilter('task', 'status=success', (t) => t.status === 'success');
      const creates = await expectFilter(
        'task',
        'type=create_credential',
        (t) => t.type === 'create_credential',
      );
      expect(creates.length).toBeGreaterThan(0);
      await expectFilter('task', 'type=create_database', (t) => t.type === 'create_database');
    });
  });

  it('serves /api/docs-yaml: valid YAML, the same document as /api/docs-json', async () => {
    const yaml = await http.as(null).get('/api/docs-yaml');
    const json = await http.as(null).get('/api/docs-json');
    expect([yaml.status, json.status]).toEqual([200, 200]);
    expect(yaml.headers.get('content-type')).toMatch(/yaml/);
    const document = parse(yaml.text) as { openapi?: string; paths?: object };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths ?? {}).length).toBeGreaterThan(10);
    expect(document).toEqual(json.body);
  });

  // Last: it stops the PostgreSQL server that holds the metadata store.
  it('answers 503 problem+json with Retry-After while the metadata store is down, and recovers', async () => {
    await stack.pg.stop();
    try {
      const down = await http.get('/api/plan/');
      expectProblem(down, 503);
      expect(down.body.type).toBe('https://dbaas.dev/problems/store-unavailable');
      expect(down.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    } finally {
      await stack.pg.start();
    }
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await http.get('/api/plan/')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
  }, 60_000);
});
