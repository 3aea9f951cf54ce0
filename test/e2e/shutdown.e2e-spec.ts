import { createConnection } from 'mysql2/promise';
import { ApiProcess } from './support/api-process';
import { HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SIGTERM while a database create is in flight: MariaDB's global read lock
 * (`FLUSH TABLES WITH READ LOCK`) holds the create's CREATE DATABASE until the test
 * releases it, two seconds after the signal.
 */
describe('graceful shutdown (e2e)', () => {
  let stack: TestStack;
  let restarted: ApiProcess | undefined;

  beforeAll(async () => {
    stack = await startStack({ engines: true });
  }, 180_000);

  afterAll(async () => {
    await restarted?.stop();
    await stack?.stop();
  });

  const mariadbAdmin = () =>
    createConnection({
      host: stack.mariadb!.host,
      port: stack.mariadb!.port,
      user: stack.mariadb!.adminUser,
      password: stack.mariadb!.adminPassword,
    });

  it('finishes the request in flight, refuses new ones, and exits with 0 within 10 s', async () => {
    const api = stack.api;
    const lock = await mariadbAdmin();
    let locked = false;
    try {
      await lock.query('FLUSH TABLES WITH READ LOCK');
      locked = true;
      const pending = stack.http.post('/api/database/', {
        name: 'graceful_create',
        plan: '/api/plan/2/',
        environment: '/api/environment/1/',
      });
      // In flight: its row is claimed, and its CREATE DATABASE waits for the lock.
      await until(
        async () =>
          (await stack.metadata("SELECT 1 FROM database WHERE name = 'graceful_create'")).length ===
          1,
      );
      await sleep(200);
      const exited = api.exited();
      const signalled = Date.now();
      process.kill(api.pid, 'SIGTERM');
      await sleep(300);

      // Draining: a new connection is refused (or answered 503), the process is still up.
      const late = await fetch(`${api.baseUrl}/health/live`).then(
        (response) => response.status,
        () => 'refused',
      );
      expect([503, 'refused']).toContain(late);
      await sleep(1_700);
      expect(api.ended).toBe(false);

      await lock.query('UNLOCK TABLES');
      locked = false;
      const answer = await pending;
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ name: 'graceful_create', status: 'ready' });
      expect(answer.headers.get('connection')).toBe('close');

      expect(await exited).toBe(0);
      const took = Date.now() - signalled;
      expect(took).toBeLessThan(10_000);
      expect(api.logs).toContain('SIGTERM: finishing requests in flight, then closing');
      expect(api.logs).toMatch(/"msg":"Closed in \d+ ms"/);
      expect(api.logs).not.toContain('exiting anyway');
    } finally {
      if (locked) await lock.query('UNLOCK TABLES');
      await lock.end();
    }
  }, 60_000);

  it('left nothing half-made: the database, its credential and its task are complete, on the engine too', async () => {
    const [database] = await stack.metadata<{ id: number; status: string }>(
      "SELECT id, status FROM database WHERE name = 'graceful_create'",
    );
    expect(database.status).toBe('ready');
    expect(
      await stack.metadata('SELECT "user", status FROM credential WHERE database_id = $1', [
        database.id,
      ]),
    ).toEqual([{ user: 'u_graceful_create', status: 'ready' }]);
    expect(
      await stack.metadata("SELECT status FROM task WHERE status IN ('waiting', 'running')"),
    ).toEqual([]);

    // The credential's password, as the API hands it out, logs in on MariaDB.
    restarted = await ApiProcess.start(stack.api.env);
    const http = new HttpClient(restarted.baseUrl);
    const detail = await http.get(`/api/database/${database.id}/`);
    expect(detail.body.status).toBe('ready');
    const credential = await http.get(new URL(detail.body.credentials[0]._links.self).pathname);
    const user = await createConnection({
      host: stack.mariadb!.host,
      port: stack.mariadb!.port,
      user: 'u_graceful_create',
      password: credential.body.password,
      database: 'graceful_create',
    });
    try {
      await user.query('CREATE TABLE t (id INT)');
      await user.query('INSERT INTO t VALUES (1)');
    } finally {
      await user.end();
    }
  }, 60_000);

  it('exits with 0 at once when idle', async () => {
    const api = restarted!;
    const exited = api.exited();
    const signalled = Date.now();
    process.kill(api.pid, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
  }, 30_000);
});
