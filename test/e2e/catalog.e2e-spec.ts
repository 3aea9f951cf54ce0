import { expectProblem } from './support/http-client';
import { raw } from './support/raw-http';
import { startStack, TestStack } from './support/test-stack';

/**
 * The foundation over HTTP: the built API on a throwaway PostgreSQL metadata store with
 * scram-sha-256 auth, sample data from `reset-data`.
 */
describe('catalog API (e2e, PostgreSQL metadata store)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('authentication', () => {
    it('asks for a login with a Basic challenge when none is given', async () => {
      const answer = await stack.http.as(null).get('/api/database/');
      expectProblem(answer, 401);
      expect(answer.headers.get('www-authenticate')).toBe('Basic realm="dbaas"');
    });

    it('refuses a wrong password and an unknown user alike', async () => {
      for (const login of ['admin:wrong', 'nobody:123456', 'admin:']) {
        const answer = await stack.http.as(login).get('/api/plan/');
        expectProblem(answer, 401);
        expect(answer.headers.get('www-authenticate')).toBe('Basic realm="dbaas"');
      }
    });

    it('refuses malformed Basic headers with 401', async () => {
      for (const header of [
        'Basic',
        'Basic !!!',
        'Bearer abc',
        `Basic ${Buffer.from('nocolon').toString('base64')}`,
      ]) {
        const answer = await stack.http
          .as(null)
          .get('/api/plan/', { headers: { authorization: header } });
        expectProblem(answer, 401);
      }
    });

    it('takes a password with colons whole (RFC 7617: the user id ends at the first colon)', async () => {
      const created = await stack.http.post('/api/user/', {
        username: 'colon_user',
        password: 'pass:with:colons',
        role: 'regular',
      });
      expect(created.status).toBe(201);
      expect((await stack.http.as('colon_user:pass:with:colons').get('/api/plan/')).status).toBe(
        200,
      );
      expectProblem(await stack.http.as('colon_user:pass').get('/api/plan/'), 401);
    });

    it('stores API passwords as scrypt hashes', async () => {
      const rows = await stack.metadata<{ password_hash: string }>(
        'SELECT password_hash FROM "user"',
      );
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) {
        expect(row.password_hash).toMatch(/^scrypt\$/);
        expect(row.password_hash).not.toContain('123456');
      }
    });
  });

  describe('HAL representation', () => {
    it('lists plans in the seed shape, plan 1 being the PostgreSQL plan offered in dev', async () => {
      const answer = await stack.http.get('/api/plan/');
      expect(answer.status).toBe(200);
      const base = stack.api.baseUrl;
      expect(answer.body._links).toEqual({
        count: 4,
        self: `${base}/api/plan/`,
        previous: null,
        next: null,
      });
      expect(answer.body.plan[0]).toMatchObject({
        _links: { self: `${base}/api/plan/1/` },
        id: 1,
        name: 'postgresql-small',
        engine: `${base}/api/engine/1/`,
        environments: [`${base}/api/environment/1/`, `${base}/api/environment/2/`],
        size_limit_in_bytes: 0,
        backup_hour: 2,
        backup_retention_days: 7,
        is_active: true,
        is_default: true,
      });
      const engine = await stack.http.get('/api/engine/1/');
      const type = await stack.http.get(new URL(engine.body.engine_type).pathname);
      expect(type.body.name).toBe('postgresql');
      expect((await stack.http.get('/api/environment/1/')).body.name).toBe('dev');
    });

    it('serves every resource with and without the trailing slash, without redirect', async () => {
      for (const resource of [
        'engine_type',
        'engine',
        'environment',
        'plan',
        'infra',
        'project',
        'team',
        'user',
      ]) {
        const withSlash = await stack.http.get(`/api/${resource}/1/`);
        const without = await stack.http.get(`/api/${resource}/1`);
        expect([resource, withSlash.status, without.status]).toEqual([resource, 200, 200]);
        expect(without.body).toEqual(withSlash.body);
        const list = await stack.http.get(`/api/${resource}`);
        expect(list.status).toBe(200);
        expect(Array.isArray(list.body[resource])).toBe(true);
      }
    });

    it('builds absolute URLs from X-Forwarded-Proto and X-Forwarded-Host', async () => {
      const answer = await stack.http.get('/api/plan/1/', {
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'dbaas.example.com' },
      });
      expect(answer.body._links.self).toBe('https://dbaas.example.com/api/plan/1/');
      expect(answer.body.engine).toBe('https://dbaas.example.com/api/engine/1/');
    });
  });

  describe('pagination', () => {
    it('pages with page and page_size and links previous and next', async () => {
      const first = await stack.http.get('/api/plan/?page_size=3');
      expect(first.body.plan.map((p: { id: number }) => p.id)).toEqual([1, 2, 3]);
      expect(first.body._links.previous).toBeNull();
      expect(first.body._links.next).toBe(`${stack.api.baseUrl}/api/plan/?page_size=3&page=2`);
      const second = await stack.http.get(
        new URL(first.body._links.next).pathname + new URL(first.body._links.next).search,
      );
      expect(second.body.plan.map((p: { id: number }) => p.id)).toEqual([4]);
      expect(second.body._links.next).toBeNull();
      expect(second.body._links.previous).toBe(`${stack.api.baseUrl}/api/plan/?page_size=3&page=1`);
      expect(second.body._links.count).toBe(4);
    });

    it.each([
      'page=0',
      'page=-1',
      'page=abc',
      'page=1.5',
      'page_size=0',
      'page_size=101',
      'page_size=x',
      'bogus=1',
    ])('refuses ?%s with 400', async (query) => {
      const answer = await stack.http.get(`/api/plan/?${query}`);
      expectProblem(answer, 400);
      expect(Object.keys(answer.body.errors).length).toBeGreaterThan(0);
    });
  });

  describe('writes', () => {
    it('creates with 201 and Location, accepting references as URL, path or id', async () => {
      const base = stack.api.baseUrl;
      const answer = await stack.http.post('/api/plan/', {
        name: 'pg-references',
        engine: `${base}/api/engine/1/`,
        environments: ['/api/environment/1/', 2],
      });
      expect(answer.status).toBe(201);
      expect(answer.headers.get('location')).toBe(answer.body._links.self);
      expect(answer.body.environments).toEqual([
        `${base}/api/environment/1/`,
        `${base}/api/environment/2/`,
      ]);
      const stored = await stack.http.get(new URL(answer.body._links.self).pathname);
      expect(stored.body).toEqual(answer.body);
    });

    it('refuses bad references with 400 naming the field, and stores nothing', async () => {
      const before = await stack.metadata('SELECT count(*)::int AS n FROM plan');
      for (const engine of [
        '/api/plan/1/',
        'http://x/api/engines/1/',
        'abc',
        -1,
        1.5,
        99999,
        null,
        {},
      ]) {
        const answer = await stack.http.post('/api/plan/', {
          name: 'bad-ref',
          engine,
          environments: [1],
        });
        expectProblem(answer, 400);
        expect(answer.body.errors.engine).toBeDefined();
      }
      expect(await stack.metadata('SELECT count(*)::int AS n FROM plan')).toEqual(before);
    });

    it('takes the backup schedule of a plan, and refuses one out of range with 400, changing nothing', async () => {
      const created = await stack.http.post('/api/plan/', {
        name: 'pg-backups',
        engine: 1,
        environments: [1],
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ backup_hour: null, backup_retention_days: 7 });
      const path = new URL(created.body._links.self).pathname;

      const set = await stack.http.patch(path, { backup_hour: 23, backup_retention_days: 0 });
      expect(set.body).toMatchObject({ backup_hour: 23, backup_retention_days: 0 });

      const before = await stack.metadata('SELECT * FROM plan ORDER BY id');
      for (const body of [
        { backup_hour: 24 },
        { backup_hour: -1 },
        { backup_hour: 1.5 },
        { backup_hour: '3' },
        { backup_retention_days: -1 },
        { backup_retention_days: null },
        { backup_retention_days: 2.5 },
        { size_limit_in_bytes: null },
        { description: null },
        { is_active: null },
        { name: null },
      ]) {
        const answer = await stack.http.patch(path, body);
        expectProblem(answer, 400);
        expect(Object.keys(answer.body.errors)).toEqual(Object.keys(body));
      }
      const refused = await stack.http.post('/api/plan/', {
        name: 'pg-bad-hour',
        engine: 1,
        environments: [1],
        backup_hour: 24,
      });
      expectProblem(refused, 400);
      expect(await stack.metadata('SELECT * FROM plan ORDER BY id')).toEqual(before);

      const cleared = await stack.http.patch(path, { backup_hour: null });
      expect(cleared.body).toMatchObject({ backup_hour: null, backup_retention_days: 0 });
      expect((await stack.http.delete(path)).status).toBe(204);
    });

    it('refuses unknown fields, wrong types and non-object bodies with 400', async () => {
      const cases = [{ name: 'qa', color: 'blue' }, { name: 42 }, { name: '' }, [], 'qa'];
      for (const body of cases) {
        const answer = await stack.http.post('/api/environment/', body);
        expectProblem(answer, 400);
        expect(answer.body.errors).toBeDefined();
      }
      const broken = await stack.http.post('/api/environment/', undefined, { raw: '{"name":' });
      expectProblem(broken, 400);
      const proto = await stack.http.post('/api/environment/', undefined, {
        raw: '{"__proto__":{"x":1},"name":"p"}',
      });
      expectProblem(proto, 400);
    });

    it('answers 413 to a body over the limit', async () => {
      // Declared 2 MiB, only its start sent: the server answers from the length alone, and a
      // client still writing the whole body could see the socket closed under it (EPIPE).
      const answer = await raw(
        stack.api.port,
        `POST /api/environment/ HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Basic ${Buffer.from('admin:123456').toString('base64')}\nContent-Type: application/json`,
        Buffer.from('{"name":"'),
        { declaredLength: 2 * 1024 * 1024 },
      );
      expect(answer.status).toBe(413);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(answer.text)).toMatchObject({ status: 413 });
    });

    it('answers 409 to a duplicate name', async () => {
      const answer = await stack.http.post('/api/environment/', { name: 'dev' });
      expectProblem(answer, 409);
    });

    it('answers 409 when deleting a catalog object still in use, and deletes nothing', async () => {
      for (const path of [
        '/api/environment/1/',
        '/api/engine/1/',
        '/api/engine_type/1/',
        '/api/plan/1/',
        '/api/team/1/',
      ]) {
        const answer = await stack.http.delete(path);
        expectProblem(answer, 409);
        expect((await stack.http.get(path)).status).toBe(200);
      }
    });

    it('updates with PUT and PATCH, and deletes what is unused', async () => {
      const created = await stack.http.post('/api/environment/', { name: 'qa' });
      const path = new URL(created.body._links.self).pathname;
      expect((await stack.http.patch(path, { name: 'qa2' })).body.name).toBe('qa2');
      expect((await stack.http.put(path, { name: 'qa3' })).body.name).toBe('qa3');
      expect((await stack.http.delete(path)).status).toBe(204);
      expectProblem(await stack.http.get(path), 404);
    });

    it('forbids catalog writes to a regular user with 403, and lets them create projects', async () => {
      const regular = stack.http.as('user:123456');
      expectProblem(await regular.post('/api/environment/', { name: 'mine' }), 403);
      expectProblem(await regular.patch('/api/plan/1/', { name: 'mine' }), 403);
      expectProblem(await regular.delete('/api/infra/1/'), 403);
      expectProblem(
        await regular.post('/api/user/', { username: 'x', password: 'xxxxxx', role: 'dba' }),
        403,
      );
      expect((await regular.get('/api/plan/')).status).toBe(200);
      expect((await regular.post('/api/project/', { name: 'user-project' })).status).toBe(201);
    });

    it('keeps the infra admin password write-only and encrypted at rest', async () => {
      const answer = await stack.http.post('/api/infra/', {
        name: 'pg-secret-check',
        engine: 1,
        plan: 1,
        environment: 1,
        addresses: ['127.0.0.1:1'],
        admin_user: 'postgres',
        admin_password: 'sup3r-s3cret-admin-pw',
        capacity: 5,
      });
      expect(answer.status).toBe(201);
      expect(answer.text).not.toContain('sup3r-s3cret-admin-pw');
      expect(answer.body.admin_password).toBeUndefined();
      const list = await stack.http.get('/api/infra/?page_size=100');
      expect(list.text).not.toContain('sup3r-s3cret-admin-pw');
      const rows = await stack.metadata<{ admin_password_encrypted: string }>(
        'SELECT admin_password_encrypted FROM infra WHERE name = $1',
        ['pg-secret-check'],
      );
      expect(rows[0].admin_password_encrypted).toMatch(/^v1:/);
      expect(rows[0].admin_password_encrypted).not.toContain('sup3r');
    });

    it('scopes users and teams: a regular user sees only themselves and their teams', async () => {
      const regular = stack.http.as('user:123456');
      const users = await regular.get('/api/user/');
      expect(users.body.user.map((u: { username: string }) => u.username)).toEqual(['user']);
      expectProblem(await regular.get('/api/user/1/'), 404);
      const teams = await regular.get('/api/team/');
      expect(teams.body.team.map((t: { name: string }) => t.name)).toEqual(['team1']);
    });

    it('creates a user who can then log in, with a scrypt hash', async () => {
      const answer = await stack.http.post('/api/user/', {
        username: 'carol',
        password: 'carol-pw-1',
        role: 'regular',
        teams: ['/api/team/2/'],
      });
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ username: 'carol', role: 'regular' });
      expect(answer.text).not.toContain('carol-pw-1');
      expect((await stack.http.as('carol:carol-pw-1').get('/api/plan/')).status).toBe(200);
      expectProblem(await stack.http.as('carol:wrong').get('/api/plan/'), 401);
    });
  });

  describe('not found', () => {
    it.each([
      '/api/plan/999/',
      '/api/plan/abc/',
      '/api/plan/99999999999/',
      '/api/nothing/',
      '/api/credential/999/',
      '/api/database/999/',
    ])('answers %s with 404 problem+json', async (path) => {
      expectProblem(await stack.http.get(path), 404);
    });
  });

  describe('documentation and health', () => {
    it('redirects / to the Swagger UI, which is served', async () => {
      const root = await stack.http.as(null).get('/');
      expect(root.status).toBe(302);
      expect(root.headers.get('location')).toBe('/api/docs');
      const ui = await stack.http.as(null).get('/api/docs');
      expect(ui.status).toBe(200);
      expect(ui.text).toContain('swagger');
    });

    it('publishes an OpenAPI 3 document with the Basic scheme, every route and problem answers', async () => {
      const { body: doc } = await stack.http.as(null).get('/api/docs-json');
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.components.securitySchemes.basic).toMatchObject({ type: 'http', scheme: 'basic' });
      for (const resource of [
        'database',
        'credential',
        'engine_type',
        'engine',
        'environment',
        'plan',
        'infra',
        'project',
        'team',
        'user',
      ]) {
        expect(doc.paths[`/api/${resource}`]).toBeDefined();
        expect(doc.paths[`/api/${resource}/{id}`]).toBeDefined();
        const list = doc.paths[`/api/${resource}`].get;
        expect(list.security).toEqual([{ basic: [] }]);
        expect(list.responses['401'].content['application/problem+json']).toBeDefined();
      }
      expect(doc.paths['/api/credential/{id}/reset_password']).toBeDefined();
      expect(doc.paths['/api/database/{id}/restore']).toBeDefined();
      expect(doc.components.schemas.PlanListDto.properties.plan.type).toBe('array');
    });

    it('reports a reachable metadata store on /health without a login', async () => {
      const answer = await stack.http.as(null).get('/health');
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ status: 'ok', store: 'up' });
    });
  });
});
