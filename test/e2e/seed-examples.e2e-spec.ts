import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ApiProcess, CLI_MAIN, runNode } from './support/api-process';
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

/**
 * What dbaas created on the stack's engines: PostgreSQL databases (but `postgres` and the
 * stack's metadata database), MariaDB schemas (but the system ones) and Redis ACL users (but
 * `default` and the admin).
 */
async function tenantsOnEngines(stack: TestStack): Promise<string[]> {
  const pg = new Client({ connectionString: stack.pg.url });
  await pg.connect();
  const metadataDb = new URL(stack.metadataUrl).pathname.slice(1);
  const databases = await pg.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE NOT datistemplate AND datname NOT IN ('postgres', $1)`,
    [metadataDb],
  );
  await pg.end();
  const [host, port] = stack.mariadb!.address.split(':');
  const mariadb = await createConnection({
    host,
    port: Number(port),
    user: stack.mariadb!.adminUser,
    password: stack.mariadb!.adminPassword,
  });
  const [schemas] = await mariadb.query(
    `SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys', 'test')`,
  );
  await mariadb.end();
  const [redisHost, redisPort] = stack.redis!.address.split(':');
  const redis = new Redis({
    host: redisHost,
    port: Number(redisPort),
    username: stack.redis!.adminUser,
    password: stack.redis!.adminPassword,
    lazyConnect: true,
  });
  await redis.connect();
  const users = (await redis.call('ACL', 'USERS')) as string[];
  redis.disconnect();
  return [
    ...databases.rows.map((r) => `postgresql:${r.datname}`),
    ...(schemas as { name: string }[]).map((r) => `mysql:${r.name}`),
    ...users
      .filter((u) => u !== 'default' && u !== stack.redis!.adminUser)
      .map((u) => `redis:${u}`),
  ];
}

/**
 * Sends every example in order and checks each answer against the seed. `first` is the name
 * of database 1: the examples' own `test database2` after a plain reset-data, the sample
 * `my_first_database` after `reset-data --with-databases`.
 */
async function examplesAnswerAsTheSeedShows(port: number, first: string): Promise<void> {
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
  expect(listed.body.database[0]).toMatchObject({ id: 1, name: first });

  const one = await run(detail, port);
  expect(one.status).toBe(200);
  expect(one.body).toMatchObject({
    _links: { self: `${base}/api/database/1/` },
    id: 1,
    name: first,
    used_size_in_bytes: expect.any(Number),
  });

  const creds = await run(credentials, port);
  expect(creds.status).toBe(200);
  expect(creds.body.credential[0]).toMatchObject({
    id: 1,
    user: `u_${first}`,
    database: `${base}/api/database/1/`,
  });
  expect(creds.body.credential[0].password).toBeUndefined();

  const withPassword = await run(credential, port);
  expect(withPassword.status).toBe(200);
  expect(withPassword.body).toMatchObject({
    id: 1,
    user: `u_${first}`,
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
    // A plain `reset-data`, as the README's quick start runs it.
    stack = await startStack({ engines: true, sampleDatabases: false, port: port || undefined });
    port = stack.api.port;
  }, 180_000);

  afterAll(async () => {
    await stack?.api.stop(); // restarted below: stack.stop() knows only the first one
    await stack?.stop();
  });

  it('a plain reset-data seeds the catalog and users but creates nothing on the engines', async () => {
    expect(await tenantsOnEngines(stack)).toEqual([]);
    const databases = await stack.http.get('/api/database/');
    expect(databases.status).toBe(200);
    expect(databases.body._links.count).toBe(0);
    expect((await stack.http.get('/api/plan/1/')).body.name).toBe('postgresql-small');
    expect((await stack.http.as('user:123456').get('/api/database/')).status).toBe(200);
  });

  it('answers every example as the seed shows: its first example creates database 1', async () => {
    await examplesAnswerAsTheSeedShows(port, 'test_database2');
  }, 60_000);

  it('answers every example as written after reset-data --with-databases too (database 1 is my_first_database)', async () => {
    const env = stack.api.env;
    await stack.api.stop();
    const reset = await runNode(CLI_MAIN, ['reset-data', '--with-databases'], env, 120_000);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('with the sample databases');
    stack.api = await ApiProcess.start(env, port);
    expect(await tenantsOnEngines(stack)).toEqual(
      expect.arrayContaining(['postgresql:my_first_database', 'postgresql:team1_database']),
    );
    await examplesAnswerAsTheSeedShows(port, 'my_first_database');
  }, 180_000);

  it('a plain reset-data removes what the sample created from the engines', async () => {
    const env = stack.api.env;
    await stack.api.stop();
    const reset = await runNode(CLI_MAIN, ['reset-data'], env, 120_000);
    expect(reset.code).toBe(0);
    stack.api = await ApiProcess.start(env, port);
    expect(await tenantsOnEngines(stack)).toEqual([]);
  }, 180_000);
});

describe('the first start of the API on an empty store (npm start) (e2e)', () => {
  let stack: TestStack;

  afterEach(async () => {
    await stack?.stop();
  });

  it('seeds the catalog and users, and no sample database unless asked', async () => {
    stack = await startStack({
      engines: true,
      resetData: false,
      env: { DBAAS_SAMPLE_DATA: 'true' },
    });
    expect(stack.api.logs).toContain('no sample database (DBAAS_SAMPLE_DATABASES=true adds them)');
    expect((await stack.http.get('/api/plan/1/')).body.name).toBe('postgresql-small');
    expect((await stack.http.get('/api/database/')).body._links.count).toBe(0);
    expect(await tenantsOnEngines(stack)).toEqual([]);
  }, 180_000);

  it('creates the sample databases with DBAAS_SAMPLE_DATABASES=true', async () => {
    stack = await startStack({
      engines: true,
      resetData: false,
      env: { DBAAS_SAMPLE_DATA: 'true', DBAAS_SAMPLE_DATABASES: 'true' },
    });
    const names = (await stack.http.get('/api/database/')).body.database.map(
      (db: { name: string }) => db.name,
    );
    expect(names).toEqual(['my_first_database', 'sample_mysql', 'sample_redis', 'team1_database']);
    expect(await tenantsOnEngines(stack)).toEqual(
      expect.arrayContaining(['postgresql:my_first_database', 'mysql:sample_mysql']),
    );
  }, 180_000);
});
