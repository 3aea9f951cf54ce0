import { createConnection, RowDataPacket } from 'mysql2/promise';
import { ApiProcess } from './support/api-process';
import { HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** apps/api/src/main.ts: past it, the process exits with code 1. */
const SHUTDOWN_DEADLINE_MS = 10_000;

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
      await until(async () => {
        const [waiting] = await lock.query<RowDataPacket[]>(
          "SELECT 1 FROM information_schema.PROCESSLIST WHERE INFO LIKE 'CREATE DATABASE%graceful_create%'",
        );
        return waiting.length === 1;
      });
      const exited = api.exited();
      const signalled = Date.now();
      process.kill(api.pid, 'SIGTERM');
      // Draining starts when the process says so, however long the signal took to arrive.
      await until(async () =>
        api.logs.includes('SIGTERM: finishing requests in flight, then closing'),
      );

      // Draining: a new connection is refused (or answered 503), the process is still up.
      const late = await fetch(`${api.baseUrl}/health/live`).then(
        (response) => response.status,
        () => 'refused',
      );
      expect([503, 'refused']).toContain(late);
      // The request stays held two seconds after the signal: a process that did not wait for
      // it would be gone by then. (A slow machine only makes this wait longer, never fail.)
      await sleep(Math.max(0, 2_000 - (Date.now() - signalled)));
      expect(api.ended).toBe(false);

      await lock.query('UNLOCK TABLES');
      locked = false;
      const answer = await pending;
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ name: 'graceful_create', status: 'ready' });
      expect(answer.headers.get('connection')).toBe('close');

      // Exit code 0 means it closed before its own deadline (the deadline exits with 1).
      expect(await exited).toBe(0);
      const closedIn = Number(/"msg":"Closed in (\d+) ms"/.exec(api.logs)?.[1]);
      expect(closedIn).toBeLessThan(SHUTDOWN_DEADLINE_MS);
      expect(api.logs).toContain('SIGTERM: finishing requests in flight, then closing');
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
