import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { startStack, TestStack } from './support/test-stack';

const exec = promisify(execFile);

/** The seed document's examples, in order, exactly as written there. */
const EXAMPLES = [
  `curl -u admin:123456 -H 'content-type: application/json' http://localhost:8000/api/database/ -d '{ "name": "test database2", "plan": "/api/plan/1/", "environment": "/api/environment/1/" }'`,
  `curl -u admin:123456 http://localhost:8000/api/database/`,
  `curl -u admin:123456 http://localhost:8000/api/database/1/`,
  `curl -u admin:123456 http://localhost:8000/api/credential/`,
  `curl -u admin:123456 http://localhost:8000/api/credential/1/`,
  `curl -u admin:123456 -H 'content-type: application/json' http://localhost:8000/api/credential/ -d '{ "user": "u_myusr1", "database": "/api/database/1/" }'`,
  `curl -u admin:123456 -d '' http://localhost:8000/api/credential/1/reset_password/`,
  `curl -u admin:123456 -X DELETE http://localhost:8000/api/credential/1/`,
  `curl -u admin:123456 -X DELETE http://localhost:8000/api/database/1/`,
];

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Runs one example through bash, as a user would paste it, and returns the answer. */
async function run(example: string, port: number): Promise<{ status: number; body: any }> {
  const command = example.replace(/localhost:8000/g, `localhost:${port}`);
  const { stdout } = await exec('bash', ['-c', `${command} -s -w '\\n%{http_code}'`]);
  const lines = stdout.split('\n');
  const status = Number(lines.pop());
  const text = lines.join('\n');
  return { status, body: text ? JSON.parse(text) : undefined };
}

describe('the seed examples, sent with curl as written after reset-data (e2e)', () => {
  let stack: TestStack;
  let port = 8000;

  beforeAll(async () => {
    if (!(await portIsFree(8000))) {
      port = 0;
      console.warn(
        'Port 8000 is taken on this machine: the seed examples run against a free port instead (the URLs are rewritten, nothing else).',
      );
    }
    stack = await startStack({ engines: true, port: port || undefined });
    port = stack.api.port;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers every example as the seed shows', async () => {
    const [
      create,
      list,
      detail,
      credentials,
      credential,
      newCredential,
      reset,
      deleteCredential,
      deleteDatabase,
    ] = EXAMPLES;
    const base = `http://localhost:${port}`;

    const created = await run(create, port);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'test_database2',
      plan: `${base}/api/plan/1/`,
      environment: `${base}/api/environment/1/`,
      project: null,
      quarantine_dt: null,
      total_size_in_bytes: 0,
      credentials: [{ user: 'u_test_database2' }],
    });
    expect(created.body.endpoint).toMatch(/^postgresql:\/\/<user>:<password>@/);

    const listed = await run(list, port);
    expect(listed.status).toBe(200);
    expect(listed.body._links).toMatchObject({
      self: `${base}/api/database/`,
      previous: null,
      next: null,
    });
    expect(listed.body._links.count).toBe(listed.body.database.length);
    expect(listed.body.database[0]).toMatchObject({ id: 1, name: 'my_first_database' });

    const one = await run(detail, port);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      _links: { self: `${base}/api/database/1/` },
      id: 1,
      used_size_in_bytes: expect.any(Number),
    });

    const creds = await run(credentials, port);
    expect(creds.status).toBe(200);
    expect(creds.body.credential[0]).toMatchObject({
      id: 1,
      user: 'u_my_first_database',
      database: `${base}/api/database/1/`,
    });
    expect(creds.body.credential[0].password).toBeUndefined();

    const withPassword = await run(credential, port);
    expect(withPassword.status).toBe(200);
    expect(withPassword.body).toMatchObject({
      id: 1,
      user: 'u_my_first_database',
      password: expect.any(String),
    });

    const made = await run(newCredential, port);
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      user: 'u_myusr1',
      database: `${base}/api/database/1/`,
      password: expect.any(String),
    });

    const resetAnswer = await run(reset, port);
    expect(resetAnswer.status).toBe(200);
    expect(resetAnswer.body.password).not.toBe(withPassword.body.password);

    expect((await run(deleteCredential, port)).status).toBe(204);
    expect((await run(credential, port)).status).toBe(404);

    expect((await run(deleteDatabase, port)).status).toBe(204);
    const quarantined = await run(detail, port);
    expect(quarantined.body.quarantine_dt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // The seed: "If database is already on quarantine, it will be delete."
    expect((await run(deleteDatabase, port)).status).toBe(204);
    expect((await run(detail, port)).status).toBe(404);
  }, 60_000);
});
