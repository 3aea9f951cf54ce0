import { Answer, expectProblem, HttpClient } from './support/http-client';
import { ApiProcess } from './support/api-process';
import { raw, RawAnswer } from './support/raw-http';
import { startStack, TestStack } from './support/test-stack';

const VERSION = { 'X-Broker-API-Version': '2.17' };
const ADMIN = `Basic ${Buffer.from('admin:123456').toString('base64')}`;

/** A JSON value nested `depth` levels deep: `{"a":{"a":...}}`. */
const nested = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

function expectBrokerError(answer: Answer | RawAnswer, status: number): void {
  const type =
    'text' in answer && !('body' in answer)
      ? answer.headers['content-type']
      : (answer as Answer).headers.get('content-type');
  const body = 'body' in answer ? answer.body : JSON.parse(answer.text);
  expect({ status: answer.status, type }).toEqual({
    status,
    type: expect.stringContaining('application/json'),
  });
  expect(type).not.toContain('problem');
  expect(body).toEqual({ error: expect.any(String), description: expect.any(String) });
}

function expectRawProblem(answer: RawAnswer, status: number): void {
  expect({ status: answer.status, type: answer.headers['content-type'] }).toEqual({
    status,
    type: expect.stringContaining('application/problem+json'),
  });
  expect(JSON.parse(answer.text)).toMatchObject({
    status,
    title: expect.any(String),
    type: expect.any(String),
    detail: expect.any(String),
  });
}

/**
 * The HTTP edge of the API: which bodies it reads (JSON only, UTF-8, not absurdly deep),
 * which browsers it believes (no cross-site writes), how strictly it parses headers and
 * pagination, and whose host it writes into links. The engines are not needed.
 */
describe('request hardening (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;
  let port: number;
  const users = async () =>
    (
      await stack.metadata<{ username: string }>('SELECT username FROM "user" ORDER BY username')
    ).map((u) => u.username);

  beforeAll(async () => {
    stack = await startStack();
    http = stack.http;
    port = stack.api.port;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('cross-site request forgery', () => {
    it('refuses a form-encoded or text/plain body with 415, and creates nothing', async () => {
      const before = await users();
      const form = await http.post('/api/user/', undefined, {
        raw: 'username=forged&password=forged-pass-1&role=dba',
        contentType: 'application/x-www-form-urlencoded',
      });
      expectProblem(form, 415);
      const text = await http.post('/api/user/', undefined, {
        raw: JSON.stringify({
          username: 'forged2',
          password: 'forged-pass-1',
          role: 'dba',
          teams: [1],
        }),
        contentType: 'text/plain',
      });
      expectProblem(text, 415);
      const multipart = await http.post('/api/user/', undefined, {
        raw: '--x\r\n\r\n--x--',
        contentType: 'multipart/form-data; boundary=x',
      });
      expectProblem(multipart, 415);
      expect(await users()).toEqual(before);
    });

    it('still answers a POST without a body whatever its content type (curl -d "")', async () => {
      const reset = await http.post('/api/credential/1/reset_password/', undefined, {
        raw: '',
        contentType: 'application/x-www-form-urlencoded',
      });
      expect(reset.status).toBe(200);
      expect(
        (
          await http.post('/api/credential/1/reset_password/', undefined, {
            raw: '',
            contentType: 'text/plain',
          })
        ).status,
      ).toBe(200);
      expect((await http.post('/api/credential/1/reset_password/')).status).toBe(200);
    });

    it('refuses writes from another origin with 403, and lets same-origin ones and reads through', async () => {
      const body = { username: 'csrf-victim', password: 'csrf-pass-123', role: 'dba', teams: [1] };
      expectProblem(
        await http.post('/api/user/', body, { headers: { 'sec-fetch-site': 'cross-site' } }),
        403,
      );
      expectProblem(
        await http.post('/api/user/', body, { headers: { origin: 'http://evil.example' } }),
        403,
      );
      expectProblem(await http.post('/api/user/', body, { headers: { origin: 'null' } }), 403);
      expectProblem(
        await http.delete('/api/credential/2/', {
          headers: { origin: `http://127.0.0.1:${port + 1}` },
        }),
        403,
      );
      expectProblem(
        await http.patch(
          '/api/project/1/',
          { description: 'forged' },
          { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } },
        ),
        403,
      );
      expect(await users()).not.toContain('csrf-victim');
      expect((await http.get('/api/credential/2/')).status).toBe(200);
      // Reads from anywhere are fine: a browser does not let the other site see the answer.
      expect(
        (
          await http.get('/api/plan/', {
            headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
          })
        ).status,
      ).toBe(200);
      // The API's own pages (the Swagger UI) write same-origin.
      const own = await http.post(
        '/api/project/',
        { name: 'same-origin' },
        { headers: { origin: stack.api.baseUrl, 'sec-fetch-site': 'same-origin' } },
      );
      expect(own.status).toBe(201);
    });

    it('answers a cross-site write on /v2 as an Open Service Broker error', async () => {
      const answer = await http.request('PUT', '/v2/service_instances/csrf-1', {
        body: { service_id: 'x', plan_id: 'y' },
        headers: { ...VERSION, 'sec-fetch-site': 'cross-site' },
      });
      expectBrokerError(answer, 403);
    });
  });

  describe('deeply nested JSON', () => {
    it('refuses a body nested deeper than 32 levels with 400, on every route, logging no stack', async () => {
      const logsBefore = stack.api.logs.length;
      for (const depth of [33, 2_000, 100_000]) {
        const project = await http.post('/api/project/', undefined, {
          raw: `{"name":"deep","description":${nested(depth)}}`,
        });
        expectProblem(project, 400);
        expect(project.body.detail).toMatch(/nested/);
        expectProblem(
          await http.patch('/api/project/1/', undefined, { raw: `[${nested(depth)}]` }),
          400,
        );
        expectProblem(await http.post('/api/credential/', undefined, { raw: nested(depth) }), 400);
      }
      const logs = stack.api.logs.slice(logsBefore);
      expect(logs).not.toMatch(/RangeError|Maximum call stack|\bat .*\.js:\d+/);
      expect(logs).not.toMatch(/"level":50/);
      expect(await stack.metadata("SELECT name FROM project WHERE name = 'deep'")).toEqual([]);
    });

    it('reads a body nested 32 levels deep as usual', async () => {
      // Deep enough to reach validation, which then names the unknown field.
      const answer = await http.post('/api/project/', undefined, {
        raw: `{"name":"deep-ok","extra":${nested(31)}}`,
      });
      expectProblem(answer, 400);
      expect(answer.body.errors).toEqual({ extra: ['is not a known field'] });
    });

    it('answers the same on /v2 as an Open Service Broker error', async () => {
      const answer = await http.request('PUT', '/v2/service_instances/deep-1', {
        raw: `{"service_id":"x","plan_id":"y","parameters":${nested(5_000)}}`,
        headers: VERSION,
      });
      expectBrokerError(answer, 400);
    });
  });

  describe('empty bodies and the framework’s own errors', () => {
    const json = { raw: '', contentType: 'application/json' };

    it('reads an empty body sent as application/json as no body', async () => {
      expect((await http.post('/api/credential/1/reset_password/', undefined, json)).status).toBe(
        200,
      );
      const project = await http.post('/api/project/', { name: 'empty-body-project' });
      expect(project.status).toBe(201);
      expect((await http.request('DELETE', `/api/project/${project.body.id}/`, json)).status).toBe(
        204,
      );
      const database = (await http.get('/api/database/')).body.database[0];
      expect((await http.request('DELETE', `/api/database/${database.id}/`, json)).status).toBe(
        204,
      );
      expect(
        (await http.post(`/api/database/${database.id}/restore/`, undefined, json)).status,
      ).toBe(200);
      // A body is still required where the route needs one.
      const create = await http.post('/api/project/', undefined, json);
      expectProblem(create, 400);
      expect(create.body.errors).toEqual({ body: ['must be a JSON object'] });
    });

    it('reads an empty JSON body on an Open Service Broker DELETE as no body', async () => {
      const answer = await http.request(
        'DELETE',
        '/v2/service_instances/never-made?service_id=x&plan_id=y',
        { ...json, headers: VERSION },
      );
      expect(answer.status).toBe(410);
      expect(answer.body).toEqual({});
    });

    it('answers malformed JSON and too-large bodies as problem+json on /api and as broker errors on /v2', async () => {
      const bad = await http.post('/api/project/', undefined, { raw: '{"name":' });
      expectProblem(bad, 400);
      expect(bad.body.detail).toBe('The body is not valid JSON.');
      // Declared over the limit, and only its start sent: the answer comes from the length
      // alone (a client still writing 2 MiB may see the socket closed under it: EPIPE).
      const tooLarge = 2 * 1024 * 1024;
      const start = Buffer.from('{"name":"');
      expectRawProblem(
        await raw(
          port,
          `POST /api/project/ HTTP/1.1\nHost: 127.0.0.1\nAuthorization: ${ADMIN}\nContent-Type: application/json`,
          start,
          { declaredLength: tooLarge },
        ),
        413,
      );
      expectBrokerError(
        await http.request('PUT', '/v2/service_instances/bad-json', {
          raw: '{"service_id":',
          headers: VERSION,
        }),
        400,
      );
      expectBrokerError(
        await raw(
          port,
          `PUT /v2/service_instances/big HTTP/1.1\nHost: 127.0.0.1\nAuthorization: ${ADMIN}\nX-Broker-API-Version: 2.17\nContent-Type: application/json`,
          start,
          { declaredLength: tooLarge },
        ),
        413,
      );
      expectBrokerError(
        await http.request('PUT', '/v2/service_instances/form', {
          raw: 'a=b',
          contentType: 'application/x-www-form-urlencoded',
          headers: VERSION,
        }),
        415,
      );
    });

    it('answers a header block over the limit with a 431 problem', async () => {
      const answer = await raw(
        port,
        `GET /api/plan/ HTTP/1.1\nHost: 127.0.0.1\nX-Padding: ${'a'.repeat(20_000)}`,
      );
      expectRawProblem(answer, 431);
      const broker = await raw(
        port,
        `GET /v2/catalog HTTP/1.1\nHost: 127.0.0.1\nX-Padding: ${'a'.repeat(20_000)}`,
      );
      expectBrokerError(broker, 431);
      const garbage = await raw(port, 'NOT HTTP AT ALL');
      expectRawProblem(garbage, 400);
    });
  });

  describe('strict parsing', () => {
    it('answers an Authorization header of another scheme with 401', async () => {
      const token = Buffer.from('admin:123456').toString('base64');
      for (const scheme of ['NotBasic', 'XBasic', 'Basicx', 'Bearer']) {
        const answer = await http
          .as(null)
          .get('/api/plan/', { headers: { authorization: `${scheme} ${token}` } });
        expectProblem(answer, 401);
      }
      expect(
        (await http.as(null).get('/api/plan/', { headers: { authorization: `basic ${token}` } }))
          .status,
      ).toBe(200);
    });

    it('refuses page and page_size that are not plain whole numbers with 400', async () => {
      for (const query of [
        'page=1e3',
        'page_size=0x10',
        'page=%201',
        'page_size=1.0',
        'page=',
        'page=+2',
        'page_size=0b11',
      ]) {
        const answer = await http.get(`/api/database/?${query}`);
        expectProblem(answer, 400);
      }
      expect((await http.get('/api/database/?page=1&page_size=10')).status).toBe(200);
    });

    it('refuses a body that is not valid UTF-8 with 400, storing nothing', async () => {
      const body = Buffer.concat([
        Buffer.from('{"name":"bad-'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]);
      const answer = await raw(
        port,
        `POST /api/project/ HTTP/1.1\nHost: 127.0.0.1\nAuthorization: ${ADMIN}\nContent-Type: application/json`,
        body,
      );
      expectRawProblem(answer, 400);
      expect(JSON.parse(answer.text).detail).toMatch(/UTF-8/);
      expect(await stack.metadata("SELECT name FROM project WHERE name LIKE 'bad-%'")).toEqual([]);
    });
  });

  it('refuses any Host but a loopback name while it listens on loopback (DNS rebinding), with 403', async () => {
    // A page of evil.example resolved to 127.0.0.1 sends Host and Origin of evil.example.
    const rebound = await raw(
      port,
      `POST /api/user/ HTTP/1.1\nHost: evil.example:${port}\nOrigin: http://evil.example:${port}\nAuthorization: ${ADMIN}\nContent-Type: application/json`,
      Buffer.from('{"username":"rebound","password":"rebound-pw","role":"dba"}'),
    );
    expectRawProblem(rebound, 403);
    expect(JSON.parse(rebound.text).type).toMatch(/host-not-allowed$/);
    const read = await raw(
      port,
      `GET /api/user/ HTTP/1.1\nHost: evil.example\nAuthorization: ${ADMIN}`,
    );
    expectRawProblem(read, 403);
    expect(await stack.metadata('SELECT 1 FROM "user" WHERE username = $1', ['rebound'])).toEqual(
      [],
    );
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const answer = await raw(
        port,
        `GET /api/plan/ HTTP/1.1\nHost: ${host}\nAuthorization: ${ADMIN}`,
      );
      expect(answer.status).toBe(200);
    }
  });

  describe('DBAAS_PUBLIC_URL and DBAAS_ALLOWED_ORIGINS', () => {
    let api: ApiProcess;

    beforeAll(async () => {
      api = await ApiProcess.start({
        ...stack.api.env,
        DBAAS_PUBLIC_URL: 'https://dbaas.example.com/',
        DBAAS_ALLOWED_ORIGINS: 'https://console.example.com, http://localhost:3000',
      });
    }, 60_000);

    afterAll(async () => {
      await api?.stop();
    });

    it('builds absolute links from DBAAS_PUBLIC_URL, whatever Host the client sends', async () => {
      const answer = await raw(
        api.port,
        `GET /api/plan/1/ HTTP/1.1\nHost: 127.0.0.2:1234\nAuthorization: ${ADMIN}`,
      );
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text)._links.self).toBe('https://dbaas.example.com/api/plan/1/');
      // The public URL's own host is accepted too (a proxy on the same machine).
      const proxied = await raw(
        api.port,
        `GET /api/plan/1/ HTTP/1.1\nHost: dbaas.example.com\nAuthorization: ${ADMIN}`,
      );
      expect(proxied.status).toBe(200);
      const created = await new HttpClient(api.baseUrl).post(
        '/api/project/',
        { name: 'public-url' },
        { headers: { 'x-forwarded-host': 'evil.example' } },
      );
      expect(created.headers.get('location')).toMatch(
        /^https:\/\/dbaas\.example\.com\/api\/project\/\d+\/$/,
      );
    });

    it('takes writes from the listed origins and from its public origin, no other', async () => {
      const client = new HttpClient(api.baseUrl);
      for (const origin of [
        'https://console.example.com',
        'http://localhost:3000',
        'https://dbaas.example.com',
      ]) {
        const answer = await client.post(
          '/api/project/',
          { name: `from-${new URL(origin).hostname}-${new URL(origin).port}` },
          { headers: { origin, 'sec-fetch-site': 'cross-site' } },
        );
        expect({ origin, status: answer.status }).toEqual({ origin, status: 201 });
      }
      expectProblem(
        await client.post(
          '/api/project/',
          { name: 'from-elsewhere' },
          { headers: { origin: 'https://console.example.com.evil.example' } },
        ),
        403,
      );
      expectProblem(
        await client.post(
          '/api/project/',
          { name: 'from-elsewhere' },
          { headers: { 'sec-fetch-site': 'cross-site' } },
        ),
        403,
      );
    });

    it('refuses to start with a malformed origin or public URL, naming the variable', async () => {
      await expect(
        ApiProcess.start({ ...stack.api.env, DBAAS_ALLOWED_ORIGINS: 'console.example.com' }),
      ).rejects.toThrow(/DBAAS_ALLOWED_ORIGINS/);
      await expect(
        ApiProcess.start({ ...stack.api.env, DBAAS_PUBLIC_URL: 'ftp://x.example' }),
      ).rejects.toThrow(/DBAAS_PUBLIC_URL/);
    }, 60_000);
  });
});
