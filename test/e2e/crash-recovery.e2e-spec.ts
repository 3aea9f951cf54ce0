import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { ApiProcess } from './support/api-process';
import { HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

interface TaskRow {
  status: string;
  error: string | null;
}

/**
 * What a SIGKILLed API process leaves behind is cleared as soon as a process finds it:
 * its Idempotency-Key claims are free at once, and its tasks are closed with what really
 * happened by the reconciler round that converges their databases (not ten minutes later).
 * Real processes on a PostgreSQL store; MariaDB's global read lock holds an operation on
 * the engine so that the kill lands inside it.
 */
describe('crash recovery of keys and tasks (e2e)', () => {
  let stack: TestStack;
  let api: ApiProcess;

  const mariadbAdmin = () =>
    createConnection({
      host: '127.0.0.1',
      port: stack.mariadb!.port,
      user: stack.mariadb!.adminUser,
      password: stack.mariadb!.adminPassword,
    });

  const taskOf = async (type: string, name: string): Promise<TaskRow> => {
    const rows = await stack.metadata<TaskRow>(
      'SELECT status, error FROM task WHERE type = $1 AND database_name = $2',
      [type, name],
    );
    expect(rows).toHaveLength(1);
    return rows[0];
  };

  /** Until the task is closed; it stays `running` for ten minutes without the fix. */
  const closed = (type: string, name: string) =>
    until(async () => (await taskOf(type, name)).status !== 'running', 60_000);

  const databaseStatus = async (name: string) =>
    (
      await stack.metadata<{ status: string }>('SELECT status FROM database WHERE name = $1', [
        name,
      ])
    )[0]?.status;

  beforeAll(async () => {
    stack = await startStack({ engines: true });
    api = stack.api;
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
    await stack?.stop();
  });

  it('after a kill mid-create and mid-quarantine: the key is free at once, and the tasks say what the reconciler did', async () => {
    const http = new HttpClient(api.baseUrl);
    const quarantined = await http.post('/api/database/', {
      name: 'keep_me',
      plan: 2,
      environment: 1,
    });
    expect(quarantined.status).toBe(201);
    const key = { headers: { 'Idempotency-Key': 'crash-create-1' } };
    const body = { name: 'crash_keyed', plan: 2, environment: 1 };

    // A global read lock holds CREATE DATABASE and every account change on MariaDB.
    const admin = await mariadbAdmin();
    await admin.query('FLUSH TABLES WITH READ LOCK');
    const pending = [
      http.post('/api/database/', body, key).catch(() => undefined),
      http.delete(`/api/database/${quarantined.body.id}/`).catch(() => undefined),
    ];
    await until(async () => (await databaseStatus('crash_keyed')) === 'creating');
    await until(async () => (await databaseStatus('keep_me')) === 'quarantining');
    await api.kill();
    await Promise.all(pending);
    await admin.query('UNLOCK TABLES');
    await admin.end();
    expect(
      await stack.metadata("SELECT 1 FROM idempotency_key WHERE status = 'running'"),
    ).toHaveLength(1);

    api = await ApiProcess.start(stack.api.env);
    const restarted = new HttpClient(api.baseUrl);
    await closed('create_database', 'crash_keyed');
    expect(await taskOf('create_database', 'crash_keyed')).toEqual({
      status: 'error',
      error: expect.stringContaining('the reconciler rolled it back'),
    });
    await closed('quarantine_database', 'keep_me');
    expect(await taskOf('quarantine_database', 'keep_me')).toEqual({
      status: 'error',
      error: expect.stringContaining('the reconciler rolled it back'),
    });
    expect(await databaseStatus('keep_me')).toBe('ready');
    expect(await databaseStatus('crash_keyed')).toBeUndefined();

    // The claim's process is gone: the retry runs now instead of a 409 for ten minutes.
    const retry = await restarted.post('/api/database/', body, key);
    expect(retry.status).toBe(201);
    expect(retry.body.name).toBe('crash_keyed');
    // And it is the answer from now on.
    const replay = await restarted.post('/api/database/', body, key);
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(retry.body.id);
  }, 240_000);

  it('a create that finished before the kill (only its success mark was lost) is recorded as a success', async () => {
    const http = new HttpClient(api.baseUrl);
    const admin = await mariadbAdmin();
    await admin.query('FLUSH TABLES WITH READ LOCK');
    const pending = http
      .post('/api/database/', { name: 'done_before', plan: 2, environment: 1 })
      .catch(() => undefined);
    await until(async () => (await databaseStatus('done_before')) === 'creating');
    // The task's row is held, so the success mark (sent with the lock's release) waits on it.
    const holder = new Client({ connectionString: stack.metadataUrl });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(
      "SELECT id FROM task WHERE type = 'create_database' AND database_name = 'done_before' FOR UPDATE",
    );
    await admin.query('UNLOCK TABLES');
    await admin.end();
    await until(async () => (await databaseStatus('done_before')) === 'ready');
    await api.kill();
    await pending;
    // A backend waiting on a lock does not notice its client died: end it, as the OS would.
    await holder.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND datname = current_database()`,
    );
    await holder.query('ROLLBACK');
    await holder.end();
    expect(await taskOf('create_database', 'done_before')).toEqual({
      status: 'running',
      error: null,
    });

    api = await ApiProcess.start(stack.api.env);
    await closed('create_database', 'done_before');
    expect(await taskOf('create_database', 'done_before')).toEqual({
      status: 'success',
      error: null,
    });
    expect(await databaseStatus('done_before')).toBe('ready');
  }, 240_000);

  it('a process whose lease connection was cut takes its lease back, so its work never looks abandoned', async () => {
    // 0x64626173: the lease namespace ('dbas'); objid is the process id recorded as owner.
    const leases = () =>
      stack.metadata<{ pid: number; objid: number }>(
        `SELECT pid, objid::int AS objid FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND classid = 1684169075 AND objsubid = 2
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
    const [before] = await leases();
    expect(before).toBeDefined();
    await stack.metadata('SELECT pg_terminate_backend($1)', [before.pid]);
    await until(async () => {
      const now = await leases();
      return now.length === 1 && now[0].objid === before.objid && now[0].pid !== before.pid;
    }, 60_000);
    // And the API goes on serving.
    expect((await new HttpClient(api.baseUrl).get('/api/plan/')).status).toBe(200);
  }, 120_000);
});
