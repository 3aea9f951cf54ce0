import fc from 'fast-check';
import { MysqlProvider, PostgresqlProvider, RedisProvider } from '@dbaas/engines';
import { EngineServer } from '../harness';
import { Answer, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

/** Strings an attacker would try, mixed into fast-check's own. */
const NASTY = [
  "' OR 1=1 --",
  '"; DROP TABLE database; --',
  'x\'); DELETE FROM "user"; --',
  '{"$gt": ""}',
  '$where: function() { return true }',
  '$(rm -rf /)',
  '`id`',
  '; cat /etc/passwd',
  '../../../etc/passwd',
  '%00',
  '\u0000',
  'nul\u0000byte',
  '\ud800',
  '💥🔥'.repeat(50),
  '\u202Eevil',
  'ß'.repeat(10_000),
  'a'.repeat(100_000),
  '__proto__',
  'constructor',
  '<script>alert(1)</script>',
  '/api/plan/1/../../user/1/',
  'http://evil.example/api/plan/1/',
  '-1',
  '0',
  '1e3',
  '9999999999999999999999',
  'NaN',
  'null',
];

const hostileString = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
);
const hostileValue = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(
    fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'prototype', '$gt')),
    hostileString,
    { maxKeys: 3 },
  ),
);
/** Never a reference that exists: hostile strings, non-positive or huge numbers, wrong shapes. */
const invalidReference = fc.oneof(
  hostileString.filter((s) => !/^\s*\d{1,9}\s*$/.test(s) && !/\/api\/\w+\/\d{1,9}\/?$/.test(s)),
  fc.integer({ max: 0 }),
  fc.constant(2_147_483_648),
  fc.double({ noInteger: true }),
  fc.constant(null),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);

/** A lone surrogate cannot be put in a URL at all: no client could send it. */
function encodable(text: string): boolean {
  try {
    encodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

const RUNS = Number(process.env.DBAAS_FUZZ_RUNS ?? 60);

/**
 * Property-based hostile input: whatever is sent, the answer is a 4xx problem+json (or a
 * plain 200 for a harmless read), never a 5xx, and neither the store nor any engine changes.
 */
describe('hostile input (e2e, fast-check)', () => {
  let stack: TestStack;
  let http: HttpClient;
  let before: unknown;
  let tried = 0;

  async function snapshot() {
    const tables = [
      'database',
      'credential',
      'project',
      'plan',
      'plan_environment',
      'environment',
      'engine',
      'engine_type',
      'infra',
      'team',
      'team_user',
      'user',
      'task',
      'idempotency_key',
    ];
    const counts: Record<string, unknown> = {};
    for (const table of tables)
      counts[table] = (await stack.metadata(`SELECT count(*)::int AS n FROM "${table}"`))[0];
    const engines: [string, EngineServer, PostgresqlProvider | MysqlProvider | RedisProvider][] = [
      ['postgresql', stack.pg, new PostgresqlProvider()],
      ['mysql', stack.mariadb!, new MysqlProvider()],
      ['redis', stack.redis!, new RedisProvider()],
    ];
    for (const [name, server, provider] of engines) {
      const target = {
        id: 1,
        addresses: [server.address],
        adminUser: server.adminUser,
        adminPassword: server.adminPassword,
      };
      counts[`${name} databases`] = (await provider.listDatabases(target))
        .filter((d) => !d.startsWith('meta_'))
        .sort();
      counts[`${name} users`] = (await provider.listUsers(target)).sort();
      await provider.close();
    }
    return counts;
  }

  function expectRefused(answer: Answer, allowed: number[] = []): void {
    tried++;
    if (allowed.includes(answer.status)) return;
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body).toMatchObject({
      status: answer.status,
      type: expect.any(String),
      title: expect.any(String),
    });
  }

  beforeAll(async () => {
    stack = await startStack({ engines: true });
    http = stack.http;
    before = await snapshot();
  }, 180_000);

  afterAll(async () => {
    console.log(`hostile input: ${tried} requests tried, none answered with a 5xx`);
    await stack?.stop();
  });

  it('refuses hostile database creations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            name: hostileValue,
            plan: invalidReference,
            environment: fc.oneof(invalidReference, fc.constant(1)),
          },
          { requiredKeys: [] },
        ),
        fc.dictionary(
          fc.constantFrom('__proto__', 'constructor', 'team', 'project', 'extra', 'id', 'status'),
          hostileValue,
          { maxKeys: 2 },
        ),
        async (body, extra) =>
          expectRefused(await http.post('/api/database/', { ...extra, ...body })),
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses hostile credentials and user names', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileValue,
        fc.oneof(invalidReference, fc.constant(99_999)),
        fc.option(hostileValue),
        async (user, database, privileges) => {
          const body: Record<string, unknown> = { user, database };
          if (privileges !== null) body.privileges = privileges;
          expectRefused(await http.post('/api/credential/', body));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses any JSON body, with hostile keys, on every catalog write', async () => {
    const resources = [
      'engine_type',
      'engine',
      'environment',
      'plan',
      'infra',
      'project',
      'team',
      'user',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...resources),
        fc.jsonValue(),
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'unknown_field'),
        async (resource, value, key) => {
          // A body that is a JSON object always carries one key no DTO has, so nothing valid slips through.
          const raw =
            value && typeof value === 'object' && !Array.isArray(value)
              ? JSON.stringify({ ...value, [key]: 1 }).replace('"__proto__"', '"__proto__"')
              : JSON.stringify(value);
          expectRefused(await http.post(`/api/${resource}/`, undefined, { raw }));
          expectRefused(await http.patch(`/api/${resource}/1/`, undefined, { raw }));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers hostile references in paths with 404', async () => {
    const resources = ['database', 'credential', 'plan', 'infra', 'user', 'task'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...resources),
        // At most Fastify's maxParamLength (100) once encoded: longer segments are 414, below.
        // `.` and `..` are dot segments: fetch resolves `/api/database/./` to the list itself.
        hostileString.filter(
          (s) =>
            s.length > 0 &&
            s !== '.' &&
            s !== '..' &&
            !/^\d+$/.test(s) &&
            encodable(s) &&
            encodeURIComponent(s).length <= 100,
        ),
        async (resource, id) => {
          for (const answer of [
            await http.get(`/api/${resource}/${encodeURIComponent(id)}/`),
            await http.delete(`/api/${resource}/${encodeURIComponent(id)}/`),
          ]) {
            expectRefused(answer);
            expect(answer.status).toBe(404);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers a path segment longer than 100 characters with 414, one of 100 with 404', async () => {
    for (const resource of ['database', 'credential', 'plan', 'task']) {
      const long = await http.get(`/api/${resource}/${'1'.repeat(101)}/`);
      expectRefused(long);
      expect(long.status).toBe(414);
      const longest = await http.get(`/api/${resource}/${'x'.repeat(100)}/`);
      expectRefused(longest);
      expect(longest.status).toBe(404);
    }
  });

  it('answers hostile pagination and filters with 200 or 400', async () => {
    const keys = [
      'page',
      'page_size',
      'name',
      'environment',
      'plan',
      'project',
      'team',
      'engine',
      'quarantine',
      'database',
      'status',
      'type',
      'bogus',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('database', 'credential', 'task', 'plan'),
        fc.dictionary(
          fc.constantFrom(...keys),
          hostileString.filter((s) => s.length < 2000),
          { maxKeys: 3 },
        ),
        async (resource, query) => {
          const search = new URLSearchParams(
            Object.fromEntries(Object.entries(query).filter(([, v]) => encodable(v))),
          ).toString();
          expectRefused(await http.get(`/api/${resource}/?${search}`), [200]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers malformed Basic headers with 401 (or 429 once throttled)', async () => {
    // Printable ASCII only, so that fetch sends every header: a header it refused to send
    // would prove nothing, and now fails the test instead of passing it.
    const header = fc
      .oneof(
        fc.string().map((s) => `Basic ${s}`),
        fc.string({ unit: 'binary' }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
        fc
          .tuple(hostileString, hostileString)
          .map(
            ([u, p]) =>
              `Basic ${Buffer.from(`${u.slice(0, 300)}:${p.slice(0, 300)}`).toString('base64')}`,
          ),
        fc.string(),
      )
      .filter((s) => /^[\x20-\x7e]*$/.test(s));
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const answer = await http.as(null).get('/api/database/', { headers: { authorization } });
        expectRefused(answer);
        expect([401, 429]).toContain(answer.status);
      }),
      { numRuns: RUNS },
    );
  });

  it('left the store and every engine exactly as they were', async () => {
    expect(await snapshot()).toEqual(before);
    expect(tried).toBeGreaterThan(RUNS * 5);
  });
});
