import { MysqlProvider } from '@dbaas/engines';
import { createHash } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { mysqlLogin } from '../engines/engine-sessions';
import { ApiProcess } from './support/api-process';
import { Answer, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

const statuses = (answers: Answer[]) =>
  answers.reduce<Record<number, number>>(
    (count, a) => ({ ...count, [a.status]: (count[a.status] ?? 0) + 1 }),
    {},
  );

/** Crash safety and concurrency, with real processes on one PostgreSQL metadata store. */
describe('crash safety and concurrency (e2e)', () => {
  let stack: TestStack;
  let second: ApiProcess;
  let restarted: ApiProcess | undefined;
  const mysql = new MysqlProvider();
  const mysqlTarget = () => ({
    id: 2,
    addresses: [stack.mariadb!.address],
    adminUser: stack.mariadb!.adminUser,
    adminPassword: stack.mariadb!.adminPassword,
  });

  /** A session of MariaDB's admin, e.g. to hold a global read lock. */
  const mariadbAdmin = () =>
    createConnection({
      host: '127.0.0.1',
      port: stack.mariadb!.port,
      user: stack.mariadb!.adminUser,
      password: stack.mariadb!.adminPassword,
    });

  beforeAll(async () => {
    stack = await startStack({ engines: true });
    second = await ApiProcess.start(stack.api.env);
  }, 180_000);

  afterAll(async () => {
    await restarted?.stop();
    await second?.stop();
    await mysql.close();
    await stack?.stop();
  });

  it('50 concurrent creates of one name, over two API processes: one 201, 49 409, one database on the engine', async () => {
    const clients = [stack.http, new HttpClient(second.baseUrl)];
    const body = { name: 'race_me', plan: 2, environment: 1 };
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => clients[i % 2].post('/api/database/', body)),
    );
    expect(statuses(answers)).toEqual({ 201: 1, 409: 49 });
    for (const answer of answers.filter((a) => a.status === 409)) {
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(
      (await mysql.listDatabases(mysqlTarget())).filter((name) => name === 'race_me'),
    ).toHaveLength(1);
    expect(await stack.metadata("SELECT id FROM database WHERE name = 'race_me'")).toHaveLength(1);
    expect(
      await stack.metadata('SELECT id FROM credential WHERE "user" = \'u_race_me\''),
    ).toHaveLength(1);
  }, 60_000);

  it('never places more databases on an infra than its capacity, however many creates of different names race', async () => {
    const infras = await stack.metadata<{ id: number; capacity: number }>(
      'SELECT id, capacity FROM infra JOIN infra_plan ON infra_id = id WHERE plan_id = 2 AND environment_id = 1',
    );
    // Three free slots on the MariaDB plan's infras, then twelve creates at once over two processes.
    await stack.metadata(
      'UPDATE infra SET capacity = (SELECT COUNT(*) FROM database WHERE infra_id = infra.id) + 3 WHERE id IN (SELECT infra_id FROM infra_plan WHERE plan_id = 2) AND environment_id = 1',
    );
    try {
      const clients = [stack.http, new HttpClient(second.baseUrl)];
      const names = Array.from({ length: 12 }, (_, i) => `slot_${i}`);
      const answers = await Promise.all(
        names.map((name, i) =>
          clients[i % 2].post('/api/database/', { name, plan: 2, environment: 1 }),
        ),
      );
      const free = 3 * infras.length;
      expect(statuses(answers)).toEqual({ 201: free, 503: names.length - free });
      for (const answer of answers.filter((a) => a.status === 503))
        expect(answer.body.type).toMatch(/no-capacity$/);
      const over = await stack.metadata(
        'SELECT id FROM infra WHERE id IN (SELECT infra_id FROM infra_plan WHERE plan_id = 2) AND capacity < (SELECT COUNT(*) FROM database WHERE infra_id = infra.id)',
      );
      expect(over).toEqual([]);
      const onEngine = (await mysql.listDatabases(mysqlTarget())).filter((name) =>
        name.startsWith('slot_'),
      );
      expect(onEngine).toHaveLength(free);
    } finally {
      for (const infra of infras) {
        await stack.metadata('UPDATE infra SET capacity = $2 WHERE id = $1', [
          infra.id,
          infra.capacity,
        ]);
      }
    }
  }, 60_000);

  it('serializes concurrent reset_password and DELETE on one database without errors', async () => {
    const created = await stack.http.post('/api/database/', {
      name: 'busy_one',
      plan: 1,
      environment: 1,
    });
    const databasePath = new URL(created.body._links.self).pathname;
    const credentialPath = new URL(created.body.credentials[0]._links.self).pathname;
    const other = new HttpClient(second.baseUrl);
    const answers = await Promise.all([
      stack.http.post(`${credentialPath}reset_password/`),
      other.post(`${credentialPath}reset_password/`),
      stack.http.delete(databasePath),
      other.post(`${credentialPath}reset_password/`),
      stack.http.post(`${credentialPath}reset_password/`),
    ]);
    for (const answer of answers) expect([200, 204, 409]).toContain(answer.status);
    expect(answers[2].status).toBe(204);
    const detail = await stack.http.get(databasePath);
    expect(detail.body.status).toBe('quarantined');
    // One at a time: the runs of the database's tasks never overlap.
    const runs = await stack.metadata<{ started_at: Date; ended_at: Date }>(
      'SELECT started_at, ended_at FROM task WHERE database_id = $1 AND started_at IS NOT NULL ORDER BY started_at',
      [created.body.id],
    );
    expect(runs.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i].started_at.getTime()).toBeGreaterThanOrEqual(runs[i - 1].ended_at.getTime());
    }
  }, 60_000);

  it('records an operation waiting while another process holds its database, then running once it may', async () => {
    const created = await stack.http.post('/api/database/', {
      name: 'held_one',
      plan: 1,
      environment: 1,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    // The create took the lock at once: its task was written running, linked to its row.
    const [createTask] = await stack.metadata<{ status: string; started_at: Date | null }>(
      "SELECT status, started_at FROM task WHERE type = 'create_database' AND database_id = $1",
      [id],
    );
    expect(createTask).toEqual({ status: 'success', started_at: expect.any(Date) });

    // Another session holds the database's lock, as an API process at work on it would.
    const holder = new Client({ connectionString: stack.metadataUrl });
    await holder.connect();
    const lockId = createHash('sha256').update('database:1:held_one').digest().readBigInt64BE(0);
    await holder.query('SELECT pg_advisory_lock($1)', [lockId.toString()]);
    let answered = false;
    const deleting = stack.http.delete(`/api/database/${id}/`).finally(() => (answered = true));
    const quarantineTask = () =>
      stack.metadata<{ status: string; started_at: Date | null }>(
        "SELECT status, started_at FROM task WHERE type = 'quarantine_database' AND database_id = $1",
        [id],
      );
    try {
      await until(async () => (await quarantineTask()).length === 1);
      expect(await quarantineTask()).toEqual([{ status: 'waiting', started_at: null }]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(answered).toBe(false);
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [lockId.toString()]);
      await holder.end();
    }
    expect((await deleting).status).toBe(204);
    expect(await quarantineTask()).toEqual([{ status: 'success', started_at: expect.any(Date) }]);
    expect((await stack.http.get(`/api/database/${id}/`)).body.status).toBe('quarantined');
  }, 60_000);

  it('records every engine operation in the task history, scoped to the teams of the viewer', async () => {
    const tasks = await stack.http.get('/api/task/?page_size=100');
    expect(tasks.status).toBe(200);
    const types = new Set(tasks.body.task.map((t: { type: string }) => t.type));
    for (const type of ['create_database', 'reset_password', 'quarantine_database'])
      expect(types).toContain(type);
    // The losers of the race that got past the early name check recorded a failed task; the
    // others were refused before any engine work, and so recorded none.
    const races = await stack.metadata<{ status: string; error: string | null }>(
      "SELECT status, error FROM task WHERE type = 'create_database' AND database_name = 'race_me'",
    );
    expect(races.filter((t) => t.status === 'success')).toHaveLength(1);
    expect(races.length).toBeLessThanOrEqual(50);
    for (const task of races.filter((t) => t.status !== 'success')) {
      expect(task).toEqual({ status: 'error', error: expect.stringContaining('already exists') });
    }
    // The regular user sees the tasks of their own team's databases, and only those.
    const regular = stack.http.as('user:123456');
    const own = await regular.post('/api/database/', {
      name: 'team1_tasks',
      plan: 2,
      environment: 1,
    });
    expect(own.status).toBe(201);
    const mine = await regular.get('/api/task/?page_size=100');
    expect(mine.status).toBe(200);
    const names = mine.body.task.map((t: { database_name: string }) => t.database_name);
    expect(names).toContain('team1_tasks');
    expect(names).not.toContain('race_me');
    const teamOf = await stack.metadata<{ name: string; team: number }>(
      'SELECT name, team_id AS team FROM database',
    );
    const team1 = teamOf.find((d) => d.name === 'team1_tasks')!.team;
    for (const name of names)
      expect([name, teamOf.find((d) => d.name === name)?.team]).toEqual([name, team1]);
    expectNoSecrets(JSON.stringify(tasks.body));
  });

  it('finishes a password reset the engine failed half-way: the password the API shows is the one that works', async () => {
    const created = await stack.http.post('/api/database/', {
      name: 'reset_me',
      plan: 2,
      environment: 1,
    });
    expect(created.status).toBe(201);
    const credentialPath = new URL(created.body.credentials[0]._links.self).pathname;
    const oldPassword = (await stack.http.get(credentialPath)).body.password as string;
    const login = mysqlLogin('127.0.0.1', stack.mariadb!.port);
    // The engine answers its ping but holds every account change until lock_wait_timeout.
    const admin = await mariadbAdmin();
    await admin.query('FLUSH TABLES WITH READ LOCK');
    const reset = await stack.http.post(`${credentialPath}reset_password/`);
    await admin.query('UNLOCK TABLES');
    await admin.end();

    expect(reset.status).toBeGreaterThanOrEqual(500);
    expectNoSecrets(reset.text);
    // The store holds the new password already; the engine still has the old one.
    expect(
      await stack.metadata(`SELECT status FROM credential WHERE "user" = 'u_reset_me'`),
    ).toEqual([{ status: 'resetting' }]);
    const shown = (await stack.http.get(credentialPath)).body.password as string;
    expect(shown).not.toBe(oldPassword);

    // The reconciler (here: at the boot of another process) puts the stored password on the engine.
    const reconciler = await ApiProcess.start(stack.api.env);
    try {
      await until(
        async () =>
          (
            await stack.metadata(
              `SELECT 1 FROM credential WHERE "user" = 'u_reset_me' AND status = 'ready'`,
            )
          ).length === 1,
        30_000,
      );
    } finally {
      await reconciler.stop();
    }
    const session = await login('reset_me', 'u_reset_me', shown);
    await session.close();
    await expect(login('reset_me', 'u_reset_me', oldPassword)).rejects.toThrow();
    expect((await stack.http.get(credentialPath)).body.password).toBe(shown);
  }, 90_000);

  it('rolls back a create interrupted by SIGKILL: the database is fully gone, on the engine and in the store', async () => {
    // A global read lock makes MariaDB hold the CREATE DATABASE, so the API is killed mid-create.
    const admin = await mariadbAdmin();
    await admin.query('FLUSH TABLES WITH READ LOCK');
    const pending = stack.http
      .post('/api/database/', { name: 'crash_me', plan: 2, environment: 1 })
      .catch(() => undefined);
    await until(
      async () =>
        (
          await stack.metadata(
            "SELECT 1 FROM database WHERE name = 'crash_me' AND status = 'creating'",
          )
        ).length === 1,
    );
    await stack.api.kill();
    await pending;
    await admin.query('UNLOCK TABLES');
    await admin.end();

    // Restarted, the API converges what it left behind at boot (the survivor would on its next round).
    restarted = await ApiProcess.start(stack.api.env);
    await until(
      async () =>
        (await stack.metadata("SELECT 1 FROM database WHERE name = 'crash_me'")).length === 0,
      90_000,
    );
    expect(await stack.metadata('SELECT id FROM credential WHERE "user" = \'u_crash_me\'')).toEqual(
      [],
    );
    expect(await mysql.listDatabases(mysqlTarget())).not.toContain('crash_me');
    expect(await mysql.listUsers(mysqlTarget())).not.toContain('u_crash_me');
    const reconciled = await stack.metadata(
      "SELECT status FROM task WHERE type = 'reconcile_database' AND database_name = 'crash_me'",
    );
    expect(reconciled).toContainEqual({ status: 'success' });
    const again = await new HttpClient(restarted.baseUrl).post('/api/database/', {
      name: 'crash_me',
      plan: 2,
      environment: 1,
    });
    expect(again.status).toBe(201);
  }, 150_000);

  it('purges each expired database once, however many processes run the purge', async () => {
    const names = ['purge_a', 'purge_b', 'purge_c'];
    for (const name of names) {
      const created = await new HttpClient(second.baseUrl).post('/api/database/', {
        name,
        plan: 4,
        environment: 1,
      });
      expect(
        (await new HttpClient(second.baseUrl).delete(new URL(created.body._links.self).pathname))
          .status,
      ).toBe(204);
    }
    const env = { ...second.env, QUARANTINE_RETENTION_DAYS: '0' };
    const purgers = await Promise.all([ApiProcess.start(env), ApiProcess.start(env)]);
    try {
      await until(
        async () =>
          (await stack.metadata("SELECT 1 FROM database WHERE name LIKE 'purge_%'")).length === 0,
        30_000,
      );
      const purges = await stack.metadata<{ database_name: string; status: string; n: number }>(
        "SELECT database_name, status, count(*)::int AS n FROM task WHERE type = 'purge_database' AND database_name LIKE 'purge_%' GROUP BY 1, 2 ORDER BY 1",
      );
      expect(purges).toEqual(
        names.map((name) => ({ database_name: name, status: 'success', n: 1 })),
      );
    } finally {
      await Promise.all(purgers.map((p) => p.stop()));
    }
  }, 90_000);

  function expectNoSecrets(text: string) {
    expect(text).not.toContain(stack.mariadb!.adminPassword);
    expect(text).not.toContain(stack.pg.adminPassword);
  }
});
