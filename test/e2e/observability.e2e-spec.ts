import { PROBE_TIMEOUT_MS } from '../../apps/api/src/health/readiness.service';
import { ApiProcess } from './support/api-process';
import { HttpClient, PASSWORDS_SEEN } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

/** Room above a configured timeout for a loaded machine: bounds say "not hung", not "fast". */
const MARGIN_MS = 3_000;

interface LogLine {
  level: string;
  time: string;
  msg: string;
  reqId?: string;
  context?: string;
  [key: string]: unknown;
}

/** Every non-empty line of the output, parsed: a line that is not JSON fails the test. */
function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`Not a JSON log line: ${line}`);
      }
    });
}

/** The value of one Prometheus sample, or undefined when the series is absent. */
function sample(
  metrics: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** The lines once there are at least `count` of them (log lines trail the answers a little). */
async function eventually(read: () => LogLine[], count: number): Promise<LogLine[]> {
  const deadline = Date.now() + 5_000;
  let lines = read();
  while (lines.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    lines = read();
  }
  expect(lines.length).toBeGreaterThanOrEqual(count);
  return lines;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Structured logs with request ids, Prometheus metrics, liveness/readiness probes and the
 * security headers, on the built API. MongoDB's sample infra points at a closed port
 * (no MongoDB server here), so it is the unreachable engine.
 */
describe('observability (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;

  beforeAll(async () => {
    stack = await startStack();
    http = stack.http;
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('logs', () => {
    it('writes one JSON object per line, the metadata store first', () => {
      const lines = logLines(stack.api.logs);
      expect(lines[0]).toMatchObject({
        level: 'info',
        msg: expect.stringMatching(/^Metadata store: PostgreSQL store at /),
      });
      for (const line of lines) {
        expect(line).toEqual(
          expect.objectContaining({
            level: expect.any(String),
            time: expect.any(String),
            msg: expect.any(String),
          }),
        );
      }
      // Nest's route table is still there (the OpenAPI test reads it).
      expect(lines.some((line) => line.msg === 'Mapped {/api/database, POST} route')).toBe(true);
    });

    it('echoes a sane X-Request-Id, replaces an unsafe one, and makes one up when there is none', async () => {
      const kept = await http.get('/api/plan/', {
        headers: { 'x-request-id': 'trace-42.abc:def' },
      });
      expect(kept.headers.get('x-request-id')).toBe('trace-42.abc:def');
      const unsafe = await http.get('/api/plan/', { headers: { 'x-request-id': 'x'.repeat(300) } });
      expect(unsafe.headers.get('x-request-id')).toMatch(UUID);
      const forged = await http.get('/api/plan/', {
        headers: { 'x-request-id': 'a"}{"level":"fatal' },
      });
      expect(forged.headers.get('x-request-id')).toMatch(UUID);
      const none = await http.get('/api/plan/');
      expect(none.headers.get('x-request-id')).toMatch(UUID);
      const again = await http.get('/api/plan/');
      expect(again.headers.get('x-request-id')).not.toBe(none.headers.get('x-request-id'));
    });

    it('gives every line of a request its id: the access line and what services logged', async () => {
      // No MongoDB server answers: the create fails with 503 and the error is logged.
      const id = `obs-mongo-${Date.now()}`;
      const failed = await http.post(
        '/api/database/',
        { name: 'obs_mongo_down', plan: '/api/plan/3/', environment: '/api/environment/1/' },
        { headers: { 'x-request-id': id } },
      );
      expect(failed.status).toBe(503);
      expect(failed.headers.get('x-request-id')).toBe(id);
      // The access line is written once the answer is sent: it may trail the answer a little.
      const mine = await eventually(
        () => logLines(stack.api.logs).filter((line) => line.reqId === id),
        2,
      );
      expect(mine).toContainEqual(expect.objectContaining({ level: 'error', context: 'Problem' }));
      expect(mine).toContainEqual(
        expect.objectContaining({
          msg: 'request completed',
          method: 'POST',
          route: '/api/database',
          path: '/api/database/',
          status: 503,
          durationMs: expect.any(Number),
        }),
      );
    });

    it('has a request id on every line written while serving a request, and never a login or password', async () => {
      const created = await http.post('/api/database/', {
        name: 'obs logged',
        plan: '/api/plan/1/',
        environment: '/api/environment/1/',
      });
      expect(created.status).toBe(201);
      await http.get(new URL(created.body.credentials[0]._links.self).pathname);
      const lines = logLines(stack.api.logs);
      const access = lines.filter((line) => line.msg === 'request completed');
      expect(access.length).toBeGreaterThan(5);
      for (const line of access) expect(line.reqId).toEqual(expect.any(String));
      // Lines outside a request (boot, background jobs) have none; every other line of a
      // request handled above does.
      const requestIds = new Set(access.map((line) => line.reqId));
      for (const line of lines.filter((l) => l.reqId))
        expect(requestIds.has(line.reqId)).toBe(true);
      const output = stack.api.logs;
      expect(PASSWORDS_SEEN.size).toBeGreaterThan(0);
      const login = Buffer.from('admin:123456').toString('base64');
      for (const secret of [...PASSWORDS_SEEN, login, stack.pg.adminPassword])
        expect(output.includes(secret) ? secret : null).toBeNull();
    });
  });

  describe('/metrics', () => {
    it('serves request durations by route pattern and status, without a login', async () => {
      expect((await http.get('/api/plan/1/')).status).toBe(200);
      expect((await http.get('/api/plan/999999/')).status).toBe(404);
      const answer = await http.as(null).get('/metrics');
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const metrics = answer.text;
      expect(metrics).toContain('# TYPE dbaas_http_request_duration_seconds histogram');
      for (const status of ['200', '404'])
        expect(
          sample(metrics, 'dbaas_http_request_duration_seconds_count', {
            method: 'GET',
            route: '/api/plan/:id',
            status_code: status,
          }),
        ).toBeGreaterThanOrEqual(1);
      expect(
        sample(metrics, 'dbaas_http_request_duration_seconds_bucket', {
          route: '/api/plan/:id',
          le: '+Inf',
        }),
      ).toBeGreaterThanOrEqual(1);
      // The route pattern, never the raw URL.
      expect(metrics).not.toMatch(/route="\/api\/plan\/\d/);
      expect(metrics).toContain('process_resident_memory_bytes');
    });

    it('times engine operations by engine and operation, and counts their errors', async () => {
      const created = await http.post('/api/database/', {
        name: 'obs metrics',
        plan: 1,
        environment: 1,
      });
      expect(created.status).toBe(201);
      expect(
        (await http.post('/api/database/', { name: 'obs_metrics_mongo', plan: 3, environment: 1 }))
          .status,
      ).toBe(503);
      const metrics = (await http.as(null).get('/metrics')).text;
      expect(metrics).toContain('# TYPE dbaas_engine_operation_duration_seconds histogram');
      for (const operation of ['createDatabase', 'createUser'])
        expect(
          sample(metrics, 'dbaas_engine_operation_duration_seconds_count', {
            engine: 'postgresql',
            operation,
            outcome: 'success',
          }),
        ).toBeGreaterThanOrEqual(1);
      expect(
        sample(metrics, 'dbaas_engine_operation_errors_total', {
          engine: 'mongodb',
          reason: 'unavailable',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(metrics, 'dbaas_engine_operation_duration_seconds_count', {
          engine: 'mongodb',
          outcome: 'error',
        }),
      ).toBeGreaterThanOrEqual(1);
    });

    it('reports databases by engine and state, and the credentials, as the store holds them', async () => {
      const metrics = (await http.as(null).get('/metrics')).text;
      const rows = await stack.metadata<{ engine: string; status: string; n: number }>(
        `SELECT et.name AS engine, d.status, count(*)::int AS n FROM database d
           JOIN infra i ON i.id = d.infra_id JOIN engine e ON e.id = i.engine_id
           JOIN engine_type et ON et.id = e.engine_type_id GROUP BY 1, 2`,
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows)
        expect([
          row,
          sample(metrics, 'dbaas_databases', { engine: row.engine, state: row.status }),
        ]).toEqual([row, row.n]);
      expect(sample(metrics, 'dbaas_databases', { engine: 'redis', state: 'quarantined' })).toBe(0);
      const [{ n }] = await stack.metadata<{ n: number }>(
        'SELECT count(*)::int AS n FROM credential',
      );
      expect(n).toBeGreaterThan(0);
      expect(sample(metrics, 'dbaas_credentials')).toBe(n);
      expect(sample(metrics, 'dbaas_metadata_store_up')).toBe(1);
    });

    it('counts the statements sent to the metadata store: one detail read adds its login and its read', async () => {
      const scrape = async () =>
        sample(
          (await http.as(null).get('/metrics')).text,
          'dbaas_metadata_store_statements_total',
        )!;
      // A background job (the reconciler's round) may land between two scrapes: up to 3 tries.
      const added: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        // Two scrapes in a row: what one scrape sends itself.
        const first = await scrape();
        const second = await scrape();
        expect((await http.get('/api/database/1/')).status).toBe(200);
        const third = await scrape();
        added.push(third - second - (second - first));
        // The login lookup and the database by id (its used size may also need the infra).
        if (added.at(-1)! >= 2 && added.at(-1)! <= 3) break;
      }
      expect(added.at(-1)).toBeGreaterThanOrEqual(2);
      expect(added.at(-1)).toBeLessThanOrEqual(3);
    });

    it('wants the bearer token when DBAAS_METRICS_TOKEN is set, and LOG_LEVEL=warn keeps info lines out', async () => {
      const token = 'obs-metrics-token-0123456789';
      const api = await ApiProcess.start({
        ...stack.api.env,
        DBAAS_METRICS_TOKEN: token,
        LOG_LEVEL: 'warn',
      });
      try {
        const second = new HttpClient(api.baseUrl);
        const none = await second.as(null).get('/metrics');
        expect(none.status).toBe(401);
        expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(none.headers.get('content-type')).toContain('application/problem+json');
        const wrong = await second
          .as(null)
          .get('/metrics', { headers: { authorization: 'Bearer nope' } });
        expect(wrong.status).toBe(401);
        const right = await second
          .as(null)
          .get('/metrics', { headers: { authorization: `Bearer ${token}` } });
        expect(right.status).toBe(200);
        expect(right.text).toContain('dbaas_credentials');
        expect((await second.get('/api/plan/')).status).toBe(200);
      } finally {
        await api.stop();
      }
      const lines = logLines(api.logs);
      expect(lines.filter((line) => !['warn', 'error', 'fatal'].includes(line.level))).toEqual([]);
      expect(api.logs).not.toContain(token);
    }, 60_000);
  });

  describe('security headers', () => {
    const expectHardened = (headers: Headers) => {
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('x-powered-by')).toBeNull();
      expect(headers.get('server')).toBeNull();
    };

    it('on API answers: no caching and a strict CSP, errors and unknown routes included', async () => {
      const answers = [
        await http.get('/api/credential/'),
        await http.post('/api/database/', { bogus: true }),
        await http.as(null).get('/api/database/'),
        await http.get('/api/nothing-here/'),
        await http.as(null).get('/health'),
        await http.as(null).get('/api/docs-json'),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 400, 401, 404, 200, 200]);
      for (const { headers } of answers) {
        expectHardened(headers);
        expect(headers.get('cache-control')).toBe('no-store');
        expect(headers.get('content-security-policy')).toBe(
          "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        );
      }
    });

    it('on the Swagger UI: a CSP that lets its own scripts and styles run', async () => {
      const page = await http.as(null).get('/api/docs');
      expect(page.status).toBe(200);
      expectHardened(page.headers);
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-eval');
    });
  });

  describe('health probes', () => {
    it('/health/live answers while the process runs', async () => {
      const live = await http.as(null).get('/health/live');
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ status: 'ok', uptime_seconds: expect.any(Number) });
    });

    it('/health/ready: 200 with the store up, each infra with its version or why not, within seconds', async () => {
      const ready = await http.as(null).get('/health/ready');
      expect(ready.status).toBe(200);
      // The store query and the infra probes each end within PROBE_TIMEOUT_MS, one after the other.
      expect(ready.ms).toBeLessThan(2 * PROBE_TIMEOUT_MS + MARGIN_MS);
      expect(ready.body).toMatchObject({ status: 'ok', store: 'up' });
      const byEngine = Object.fromEntries(
        ready.body.infras.map((infra: any) => [infra.engine, infra]),
      );
      expect(byEngine.postgresql).toEqual({
        id: 1,
        name: expect.any(String),
        engine: 'postgresql',
        reachable: true,
        version: expect.stringMatching(/^\d+/),
        error: null,
      });
      // An unreachable engine is reported, with its real cause, but does not make the API
      // unready. The sample MongoDB infra is a closed loopback port: refused at once.
      expect(byEngine.mongodb).toMatchObject({
        reachable: false,
        version: null,
        error: 'connection refused',
      });
      expect(JSON.stringify(ready.body)).not.toContain('127.0.0.1');
    });

    it('/health/ready answers 503 when the metadata store is down; /health/live still 200', async () => {
      await stack.pg.stop();
      try {
        const ready = await http.as(null).get('/health/ready');
        expect(ready.status).toBe(503);
        expect(ready.body).toEqual({ status: 'unavailable', store: 'down', infras: [] });
        expect(ready.ms).toBeLessThan(PROBE_TIMEOUT_MS + MARGIN_MS);
        expect((await http.as(null).get('/health/live')).status).toBe(200);
        const metrics = (await http.as(null).get('/metrics')).text;
        expect(sample(metrics, 'dbaas_metadata_store_up')).toBe(0);
      } finally {
        await stack.pg.start();
      }
    }, 60_000);
  });
});
