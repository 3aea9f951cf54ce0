import { spawnSync } from 'node:child_process';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { OpenApiDocument, resolveRef, schemaMismatches } from './support/openapi-conformance';
import { startStack, TestStack } from './support/test-stack';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Routes the product contract promises (SPEC.md); the live route table adds the rest. */
const CATALOG = [
  'engine_type',
  'engine',
  'environment',
  'plan',
  'infra',
  'project',
  'team',
  'user',
];
const SPEC_ROUTES = [
  'GET /health',
  ...['database', 'credential', ...CATALOG].flatMap((r) => [
    `GET /api/${r}`,
    `POST /api/${r}`,
    `GET /api/${r}/{id}`,
    `DELETE /api/${r}/{id}`,
  ]),
  ...['database', ...CATALOG].flatMap((r) => [`PUT /api/${r}/{id}`, `PATCH /api/${r}/{id}`]),
  'POST /api/database/{id}/restore',
  'POST /api/credential/{id}/reset_password',
  'POST /api/user/{id}/password',
];

/** Lint problems accepted on purpose (none now); anything else fails the lint. */
const KNOWN_LINT_GAPS: { rule: string; at: string }[] = [];

interface LintProblem {
  rule: string;
  severity: string;
  message: string;
  at?: string;
}

type Operation = { key: string; path: string; method: string; op: any };

/**
 * The live OpenAPI document of the built app: linted by Redocly's strict rules, complete
 * against the app's own route table, and true to what the API really answers.
 */
describe('OpenAPI document (e2e)', () => {
  let stack: TestStack;
  let doc: OpenApiDocument;
  let operations: Operation[];

  beforeAll(async () => {
    stack = await startStack();
    const answer = await stack.http.as(null).get('/api/docs-json');
    expect(answer.status).toBe(200);
    doc = answer.body;
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({
        key: `${method.toUpperCase()} ${path}`,
        path,
        method,
        op: item[method],
      })),
    );
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('passes the Redocly linter (recommended-strict) without a problem', () => {
    const run = spawnSync(process.execPath, [join(__dirname, 'support', 'lint-openapi.mjs')], {
      input: JSON.stringify(doc),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    const problems = (JSON.parse(run.stdout) as LintProblem[]).filter(
      (p) => !KNOWN_LINT_GAPS.some((gap) => gap.rule === p.rule && gap.at === p.at),
    );
    expect(problems).toEqual([]);
  });

  it('has no text that breaks the Swagger UI page', () => {
    // @nestjs/swagger inlines the document into swagger-ui-init.js with String.replace, so
    // `$\``, `$'`, `$&`, `$$` or `$1` in any text is expanded and the page's script breaks.
    expect(JSON.stringify(doc).match(/\$[`'&$\d]/g)).toBeNull();
  });

  it('is OpenAPI 3 with the Basic security scheme required on every /api route', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes).toEqual({
      basic: expect.objectContaining({ type: 'http', scheme: 'basic' }),
    });
    for (const { key, path, op } of operations) {
      if (path.startsWith('/api/') || path.startsWith('/v2/'))
        expect([key, op.security]).toEqual([key, [{ basic: [] }]]);
      else expect([key, op.security]).toEqual([key, []]);
    }
  });

  it('documents every route the app serves, and each one once', () => {
    // Nest logs its route table at boot: `Mapped {/api/plan/:id, GET} route`.
    const served = [...stack.api.logs.matchAll(/Mapped \{([^,}]+), (\w+)\} route/g)]
      .map(([, path, method]) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`)
      .filter((route) => route !== 'GET /');
    expect(served.length).toBeGreaterThan(SPEC_ROUTES.length / 2);
    const documented = operations.map((o) => o.key);
    const expected = [...new Set([...SPEC_ROUTES, ...served])].sort();
    expect(expected.filter((route) => !documented.includes(route))).toEqual([]);
    expect(new Set(operations.map((o) => o.op.operationId)).size).toBe(operations.length);
  });

  it('gives every operation an id, a summary, a tag and problem+json errors', () => {
    for (const { key, path, op } of operations) {
      expect([key, op.operationId, op.summary, op.tags?.length]).toEqual([
        key,
        expect.any(String),
        expect.any(String),
        1,
      ]);
      const statuses = Object.keys(op.responses);
      if (path.startsWith('/api/'))
        expect([key, statuses]).toEqual([key, expect.arrayContaining(['401'])]);
      if (path.includes('{id}'))
        expect([key, statuses]).toEqual([key, expect.arrayContaining(['404'])]);
      // A body in anything but JSON is refused with 415.
      if (op.requestBody && path.startsWith('/api/'))
        expect([key, statuses]).toEqual([key, expect.arrayContaining(['415'])]);
      for (const status of statuses.filter((s) => Number(s) >= 400 && path.startsWith('/api/'))) {
        expect([key, status, op.responses[status].content]).toEqual([
          key,
          status,
          {
            'application/problem+json': {
              schema: { $ref: '#/components/schemas/ProblemDto' },
              example: expect.objectContaining({ status: Number(status) }),
            },
          },
        ]);
      }
    }
    const problem = doc.components.schemas.ProblemDto;
    expect(problem.required).toEqual(['type', 'title', 'status', 'detail']);
    expect(problem.properties.errors).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'array', items: { type: 'string' } },
    });
  });

  it('documents the JSON body of every success answer and request', () => {
    for (const { key, method, op } of operations) {
      const success = Object.keys(op.responses).filter((s) => /^2/.test(s));
      // The broker's PUTs answer 200, 201 or 202 as the OSB spec says; each is documented.
      if (key.includes(' /v2/')) {
        for (const code of success) {
          expect([key, code, op.responses[code].content?.['application/json']?.schema]).toEqual([
            key,
            code,
            { $ref: expect.stringMatching(/^#\/components\/schemas\/\w+Dto$/) },
          ]);
        }
        continue;
      }
      // A create with `from_backup` is accepted (202) rather than created (201).
      if (key === 'POST /api/database') {
        expect([key, success]).toEqual([key, ['201', '202']]);
        expect(op.responses['202'].content['application/json'].schema).toEqual({
          $ref: '#/components/schemas/AcceptedDatabaseDto',
        });
        success.pop();
      }
      expect([key, success.length]).toEqual([key, 1]);
      const [status] = success;
      if (status === '204') expect([key, op.responses[status].content]).toEqual([key, undefined]);
      else if (key === 'GET /metrics')
        // The Prometheus text exposition format, not JSON.
        expect([key, Object.keys(op.responses[status].content)]).toEqual([key, ['text/plain']]);
      else
        expect([key, op.responses[status].content?.['application/json']?.schema]).toEqual([
          key,
          { $ref: expect.stringMatching(/^#\/components\/schemas\/\w+Dto$/) },
        ]);
      // Actions without a body: restore, reset_password, and taking a backup.
      if (
        ['post', 'put', 'patch'].includes(method) &&
        !/restore|reset_password|\}\/backup$/.test(key)
      )
        expect([key, op.requestBody?.content?.['application/json']?.schema]).toEqual([
          key,
          { $ref: expect.stringMatching(/^#\/components\/schemas\/(Create|Update|Change)\w+Dto$/) },
        ]);
    }
  });

  it('describes every list as a HAL envelope: _links with count/self/previous/next and the items', () => {
    const lists = operations.filter((o) => o.method === 'get' && /^\/api\/\w+$/.test(o.path));
    expect(lists.length).toBeGreaterThanOrEqual(10);
    for (const { path, op } of lists) {
      const resource = path.split('/')[2];
      const envelope = resolveRef(doc, op.responses['200'].content['application/json'].schema);
      expect(envelope.required).toEqual(['_links', resource]);
      expect(envelope.properties._links).toEqual({ $ref: '#/components/schemas/ListLinksDto' });
      expect(envelope.properties[resource]).toEqual({
        type: 'array',
        items: { $ref: expect.stringMatching(/Dto$/) },
      });
      expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining(['page', 'page_size']),
      );
    }
    expect(doc.components.schemas.ListLinksDto.required).toEqual([
      'count',
      'self',
      'previous',
      'next',
    ]);
  });

  it('pre-fills no list filter in "Try it out" (a made-up filter value empties the list)', () => {
    const prefilled = operations
      .filter((o) => o.method === 'get')
      .flatMap(({ key, op }) =>
        (op.parameters ?? [])
          .filter((p: any) => p.in === 'query' && !['page', 'page_size'].includes(p.name))
          .filter((p: any) => p.example !== undefined || p.schema?.example !== undefined)
          .map((p: any) => `${key} ?${p.name}`),
      );
    expect(prefilled).toEqual([]);
  });

  it('gives every scalar property of every schema an example', () => {
    const missing: string[] = [];
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      for (const [property, value] of Object.entries<any>(schema.properties ?? {})) {
        const nested = value.$ref || value.allOf || value.items?.$ref;
        if (!nested && value.example === undefined && !value.enum && value.default === undefined)
          missing.push(`${name}.${property}`);
      }
    }
    expect(missing).toEqual([]);
  });

  describe('made for client generators', () => {
    /** Every schema in the document, with where it sits, parameters and headers included. */
    const allSchemas = () => {
      const found: { at: string; schema: any }[] = [];
      const walk = (at: string, schema: any) => {
        if (!schema || typeof schema !== 'object') return;
        found.push({ at, schema });
        for (const [name, inner] of Object.entries<any>(schema.properties ?? {}))
          walk(`${at}.${name}`, inner);
        if (schema.items) walk(`${at}[]`, schema.items);
        for (const part of [...(schema.allOf ?? []), ...(schema.oneOf ?? [])]) walk(at, part);
      };
      for (const [name, schema] of Object.entries(doc.components.schemas)) walk(name, schema);
      for (const { key, op } of operations) {
        for (const p of op.parameters ?? []) walk(`${key} ${p.in}:${p.name}`, p.schema);
        for (const [status, answer] of Object.entries<any>(op.responses))
          for (const [header, h] of Object.entries<any>(answer.headers ?? {}))
            walk(`${key} ${status} header:${header}`, h.schema);
      }
      return found;
    };

    it('types every whole number as integer: ids, page, page_size, count, port, capacity, sizes', () => {
      const schemas = allSchemas();
      // The only fractional number: seconds of uptime.
      const numbers = schemas.filter(({ schema }) => schema.type === 'number').map((s) => s.at);
      expect(numbers).toEqual(['LivenessDto.uptime_seconds']);
      const whole =
        /(^|[.:])(id|page|page_size|count|port|capacity|placed|free|status|maximum_polling_duration|\w+_in_bytes)$/;
      const named = schemas.filter(
        ({ at, schema }) =>
          whole.test(at) && (schema.type === 'integer' || schema.type === 'number'),
      );
      expect(named.length).toBeGreaterThan(80);
      expect(named.filter(({ schema }) => schema.type !== 'integer').map((s) => s.at)).toEqual([]);
      for (const at of [
        'GET /api/database query:page',
        'GET /api/database query:page_size',
        'GET /api/plan/{id} path:id',
        'DELETE /api/infra/{id} path:id',
        'ListLinksDto.count',
        'InfraDto.capacity',
        'BindingCredentialsDto.port',
        'ProblemDto.status',
      ])
        expect([at, schemas.find((s) => s.at === at)?.schema.type]).toEqual([at, 'integer']);
    });

    it('gives each error status its own example and a description that says when it happens', () => {
      const examples = new Map<string, string>();
      for (const { key, op } of operations) {
        for (const [status, answer] of Object.entries<any>(op.responses)) {
          if (Number(status) < 400) continue;
          const content: any = Object.values(answer.content)[0];
          expect([key, status, content.example]).toEqual([key, status, expect.any(Object)]);
          // Not the bare status name, and long enough to say something.
          expect([key, status, answer.description]).not.toEqual([
            key,
            status,
            STATUS_CODES[status],
          ]);
          expect([key, status, answer.description.length > 30]).toEqual([key, status, true]);
          const text = JSON.stringify(content.example);
          if (key.includes(' /api/')) {
            expect([key, status, content.example.status]).toEqual([key, status, Number(status)]);
            expect([key, status, content.example.title]).toEqual([
              key,
              status,
              STATUS_CODES[status],
            ]);
            expect(schemaMismatches(doc, content.schema, content.example)).toEqual([]);
            // The same status has the same example everywhere; two statuses never share one.
            expect([key, status, examples.get(status) ?? text]).toEqual([key, status, text]);
            examples.set(status, text);
          }
        }
      }
      expect(new Set(examples.values()).size).toBe(examples.size);
      expect(examples.size).toBeGreaterThanOrEqual(9);
    });

    it('declares 429 with Retry-After wherever a login is checked, Retry-After on 503, Location on 201', () => {
      const retryAfter = {
        description: expect.any(String),
        schema: expect.objectContaining({ type: 'integer' }),
      };
      for (const { key, op } of operations) {
        const headers = (status: string) => op.responses[status]?.headers ?? {};
        if (op.security.length) {
          expect([key, Object.keys(op.responses)]).toEqual([key, expect.arrayContaining(['429'])]);
          expect([key, headers('429')['Retry-After']]).toEqual([
            key,
            expect.objectContaining(retryAfter),
          ]);
        }
        if (op.responses['503'] && key.includes(' /api/'))
          expect([key, headers('503')['Retry-After']]).toEqual([
            key,
            expect.objectContaining(retryAfter),
          ]);
        if (op.responses['201'] && key.includes(' /api/'))
          expect([key, headers('201').Location?.schema]).toEqual([
            key,
            expect.objectContaining({
              type: 'string',
              format: 'uri',
              example: `http://localhost:8000/api/${key.split('/')[2]}/1/`,
            }),
          ]);
      }
    });

    it('names a server: "/" (this host) unless DBAAS_PUBLIC_URL is set', () => {
      expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    });

    it('shows each resource its own self link, not a plan', () => {
      const items = Object.entries<any>(doc.components.schemas).filter(
        ([, schema]) =>
          schema.properties?._links && !schema.properties?._links.$ref?.endsWith('ListLinksDto'),
      );
      expect(items.length).toBeGreaterThanOrEqual(11);
      for (const [name, schema] of items) {
        const links = resolveRef(doc, schema.properties._links);
        // DatabaseDto → database, EngineTypeDto → engine_type; a database's credentials and a
        // credential with its password are credentials; an accepted database (a clone's 202)
        // is a database.
        const resource = /Credential/.test(name)
          ? 'credential'
          : name
              .replace(/^Accepted/, '')
              .replace(/Dto$/, '')
              .replace(/(?<=.)([A-Z])/g, '_$1')
              .toLowerCase();
        expect([name, links.properties.self.example]).toEqual([
          name,
          `http://localhost:8000/api/${resource}/1/`,
        ]);
      }
    });

    it('types the quarantine filter as a boolean, and ?quarantine=true still works', async () => {
      const quarantine = doc.paths['/api/database'].get.parameters.find(
        (p: any) => p.name === 'quarantine',
      );
      expect(quarantine.schema).toEqual({ type: 'boolean' });
      for (const value of ['true', 'false'])
        expect((await stack.http.get(`/api/database/?quarantine=${value}`)).status).toBe(200);
      const wrong = await stack.http.get('/api/database/?quarantine=yes');
      expect(wrong.status).toBe(400);
      expect(wrong.body.errors).toEqual({ quarantine: ['must be true or false'] });
    });

    it('writes summaries with the right article ("an engine", "an infra", "a user")', () => {
      const wrong = operations.filter(({ op }) => /\ba [aeio]/i.test(op.summary));
      expect(wrong.map(({ op }) => op.summary)).toEqual([]);
      const summaries = operations.map(({ op }) => op.summary);
      expect(summaries).toEqual(
        expect.arrayContaining(['Create an infra (dba)', 'Get an engine', 'Get a user']),
      );
    });

    it('describes every tag, the main resources first and health last', () => {
      const names = doc.tags.map((t: { name: string }) => t.name);
      expect(names.slice(0, 3)).toEqual(['database', 'credential', 'task']);
      expect(names[names.length - 1]).toBe('health');
      for (const tag of doc.tags)
        expect([tag.name, tag.description?.length > 10]).toEqual([tag.name, true]);
      const used = new Set(operations.flatMap(({ op }) => op.tags));
      expect([...used].filter((tag) => !names.includes(tag))).toEqual([]);
      expect(names.length).toBe(used.size);
    });

    it('documents error examples that are the answers the API really gives', async () => {
      const example = (key: string, status: number) => {
        const [method, path] = key.split(' ');
        return doc.paths[path][method.toLowerCase()].responses[status].content[
          'application/problem+json'
        ].example;
      };
      const same = (body: any, documented: any) =>
        expect({ type: body.type, title: body.title, status: body.status }).toEqual({
          type: documented.type,
          title: documented.title,
          status: documented.status,
        });
      const anonymous = await stack.http.as(null).get('/api/plan/');
      expect(anonymous.body).toEqual(example('GET /api/plan', 401));
      const invalid = await stack.http.post('/api/database/', { name: 1 });
      same(invalid.body, example('POST /api/database', 400));
      expect(invalid.body.detail).toBe(example('POST /api/database', 400).detail);
      const missing = await stack.http.get('/api/database/42/');
      expect(missing.body).toEqual(example('GET /api/database/{id}', 404));
      // Six wrong passwords for one (made-up) user name from this address: throttled.
      let throttled: any;
      for (let i = 0; i < 6; i++)
        throttled = await stack.http.as('nobody-openapi:wrong').get('/api/plan/');
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(throttled.body).toEqual(example('GET /api/plan', 429));
    });
  });

  describe('answers match their documented schemas', () => {
    const check = (schemaName: string, body: unknown) =>
      expect(schemaMismatches(doc, { $ref: `#/components/schemas/${schemaName}` }, body)).toEqual(
        [],
      );

    it('every list and the first item of every resource', async () => {
      // A database, so that the database, credential and task lists have an item too.
      const made = await stack.http.post('/api/database/', {
        name: 'openapi_items',
        plan: 1,
        environment: 1,
      });
      expect(made.status).toBe(201);
      // And a backup of it, so that the backup list has one.
      const backup = await stack.http.post(`/api/database/${made.body.id}/backup/`);
      expect(backup.status).toBe(202);
      check('BackupDto', backup.body);
      const lists = operations.filter((o) => o.method === 'get' && /^\/api\/\w+$/.test(o.path));
      expect(lists.map((o) => o.path)).toEqual(
        expect.arrayContaining(['/api/database', '/api/credential', '/api/task', '/api/plan']),
      );
      for (const { path, op } of lists) {
        const list = await stack.http.get(`${path}/`);
        expect([path, list.status]).toEqual([path, 200]);
        const ref = op.responses['200'].content['application/json'].schema.$ref;
        check(ref.split('/').pop(), list.body);
        const first = list.body[path.split('/')[2]][0];
        expect([path, first]).toEqual([path, expect.objectContaining({ id: expect.any(Number) })]);
        const item = await stack.http.get(`${path}/${first.id}/`);
        const itemRef =
          doc.paths[`${path}/{id}`].get.responses['200'].content['application/json'].schema.$ref;
        check(itemRef.split('/').pop(), item.body);
      }
    });

    it('the infra detail with its live status and capacity', async () => {
      const infra = await stack.http.get('/api/infra/1/');
      expect(infra.body).toMatchObject({
        status: { reachable: true, version: expect.any(String), error: null },
        databases: { placed: expect.any(Number), capacity: expect.any(Number) },
      });
      check('InfraDto', infra.body);
    });

    it('a created database, a password reset, and problem answers', async () => {
      const created = await stack.http.post('/api/database/', {
        name: 'openapi conformance',
        plan: '/api/plan/1/',
        environment: '/api/environment/1/',
      });
      expect(created.status).toBe(201);
      check('DatabaseDto', created.body);
      const reset = await stack.http.post(
        `/api/credential/${created.body.credentials[0].id}/reset_password/`,
      );
      expect(reset.status).toBe(200);
      check('CredentialWithPasswordDto', reset.body);
      const invalid = await stack.http.post('/api/database/', { name: 1, bogus: true });
      expect(invalid.status).toBe(400);
      check('ProblemDto', invalid.body);
      const missing = await stack.http.get('/api/database/999999/');
      expect(missing.status).toBe(404);
      check('ProblemDto', missing.body);
    });
  });
});
