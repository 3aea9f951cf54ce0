import {
  EngineProvider,
  InfraTarget,
  MysqlProvider,
  PostgresqlProvider,
  RedisProvider,
} from '@dbaas/engines';
import type { FaultStep } from '@dbaas/core';
import Redis from 'ioredis';
import { Login, mysqlLogin, postgresLogin, redisLogin } from '../engines/engine-sessions';
import { EngineServer } from '../harness';
import { ApiProcess } from './support/api-process';
import { Answer, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

/**
 * A process dying inside each operation that leaves a lifecycle marker, on PostgreSQL,
 * MariaDB and Redis: the next process's reconciler must end in the outcome the README
 * documents (Reliability: lifecycle states), on the engine (which login and which password
 * work, what exists) and in the store (statuses, the interrupted task's outcome).
 *
 * The kill comes from a TEST-ONLY fault point (libs/core/src/testing/test-fault.ts): an API
 * started with DBAAS_TEST_FAULT=<step>@<database> SIGKILLs itself when the operation on that
 * database reaches the named step boundary. Without the variable the fault points do nothing;
 * only this suite sets it. Each case: set up its database with an API armed for it (the
 * setup never passes the armed step on that database), send the request (it gets no answer:
 * the process is gone), start the API again (armed for the next case: one start per case),
 * wait for the reconciler (every second here) to close the interrupted task, then check.
 */

interface EngineCase {
  engine: 'postgresql' | 'mysql' | 'redis';
  /** Short tag for database names. */
  tag: string;
  plan: number;
  server: (stack: TestStack) => EngineServer;
  login: (host: string, port: number) => Login;
  provider: () => EngineProvider;
  /** The engine's refusal of a login with a wrong password, an unknown or a locked user. */
  refused: RegExp;
}

const ENGINES: EngineCase[] = [
  {
    engine: 'postgresql',
    tag: 'pg',
    plan: 1,
    server: (s) => s.pg,
    login: postgresLogin,
    provider: () => new PostgresqlProvider(),
    refused: /password authentication failed|is not permitted to log in/,
  },
  {
    engine: 'mysql',
    tag: 'my',
    plan: 2,
    server: (s) => s.mariadb!,
    login: mysqlLogin,
    provider: () => new MysqlProvider(),
    refused: /Access denied/,
  },
  {
    engine: 'redis',
    tag: 'rd',
    plan: 4,
    server: (s) => s.redis!,
    login: redisLogin,
    provider: () => new RedisProvider(),
    refused: /WRONGPASS/,
  },
];

interface Credential {
  id: number;
  user: string;
  password: string;
}

/** One case's database on one engine, and what the test set up in it. */
interface Case {
  name: string;
  engine: EngineCase;
  databaseId?: number;
  owner?: Credential;
  /** A second credential (read-write), where the case needs two. */
  second?: Credential;
  /** The user the crashed credential operation was about. */
  subjectUser?: string;
}

interface CrashCase {
  /** The lifecycle state the crash leaves behind. */
  state: string;
  /** Database names: `<prefix>_<engine tag>`. */
  prefix: string;
  step: FaultStep;
  /** The interrupted task and the outcome the reconciler gives it. */
  task: { type: string; status: 'success' | 'error'; error?: RegExp };
  /** The marker left in the store, read right after the kill. */
  marker: { table: 'database' | 'credential'; status: string };
  /** What the engine shows right after the kill, before any reconciler ran (optional). */
  left?(c: Case): Promise<void>;
  prepare(c: Case): Promise<void>;
  /** The request the process dies in. */
  trigger(c: Case): Promise<Answer>;
  verify(c: Case): Promise<void>;
}

describe('a process killed inside every lifecycle operation, on PostgreSQL, MariaDB and Redis (e2e)', () => {
  let stack: TestStack;
  let api: ApiProcess;
  let http: HttpClient;
  const providers = new Map<string, EngineProvider>();

  /** (Re)starts the API, armed with a fault point (`<step>@<database>`) or not. */
  async function restart(fault?: string): Promise<void> {
    await api.stop();
    const env = { ...stack.api.env };
    if (fault) env.DBAAS_TEST_FAULT = fault;
    api = await ApiProcess.start(env);
    http = new HttpClient(api.baseUrl);
  }

  const targetOf = (e: EngineCase): InfraTarget => {
    const server = e.server(stack);
    return {
      id: 1,
      addresses: [server.address],
      adminUser: server.adminUser,
      adminPassword: server.adminPassword,
    };
  };
  const providerOf = (e: EngineCase): EngineProvider => {
    if (!providers.has(e.engine)) providers.set(e.engine, e.provider());
    return providers.get(e.engine)!;
  };
  const usersOnEngine = (c: Case) => providerOf(c.engine).listUsers(targetOf(c.engine));
  const databaseOnEngine = (c: Case) =>
    providerOf(c.engine).databaseExists(targetOf(c.engine), c.name);

  /** Logs in as an application would; a Redis database is its key prefix. */
  const login = (c: Case, user: string, password: string) =>
    c.engine.login('127.0.0.1', c.engine.server(stack).port)(c.name, user, password);

  /** Logs in and reads the mark written at setup: the login works and sees its data. */
  async function readsMark(c: Case, user: string, password: string): Promise<void> {
    const session = await login(c, user, password);
    try {
      expect(await session.read('mark')).toBe(c.name);
    } finally {
      await session.close();
    }
  }

  /** The engine refuses the login with its own error for a bad password or user. */
  async function refused(c: Case, user: string, password: string): Promise<void> {
    if (c.engine.engine !== 'redis') {
      await expect(login(c, user, password).then((s) => s.close())).rejects.toThrow(
        c.engine.refused,
      );
      return;
    }
    // ioredis drops a failed AUTH's error on connect: send AUTH itself to see the refusal.
    const client = new Redis({
      host: '127.0.0.1',
      port: c.engine.server(stack).port,
      lazyConnect: true,
      enableReadyCheck: false,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await expect(client.call('AUTH', user, password)).rejects.toThrow(c.engine.refused);
    } finally {
      client.disconnect();
    }
  }

  async function passwordOf(id: number): Promise<string> {
    const answer = await http.get(`/api/credential/${id}/`);
    expect(answer.status).toBe(200);
    return answer.body.password;
  }

  const createDatabase = (c: Case) =>
    http.post('/api/database/', { name: c.name, plan: c.engine.plan, environment: 1 });

  /** The database with its owner, and the owner's mark written in it. */
  async function withDatabase(c: Case): Promise<void> {
    const created = await createDatabase(c);
    expect(created.status).toBe(201);
    c.databaseId = created.body.id;
    const owner = created.body.credentials[0];
    c.owner = { id: owner.id, user: owner.user, password: await passwordOf(owner.id) };
    const session = await login(c, c.owner.user, c.owner.password);
    await session.init();
    await session.write('mark', c.name);
    await session.close();
  }

  async function withSecondCredential(c: Case): Promise<void> {
    const created = await http.post('/api/credential/', {
      user: `rw_${c.name}`,
      database: c.databaseId,
      privileges: 'read-write',
    });
    expect(created.status).toBe(201);
    c.second = { id: created.body.id, user: created.body.user, password: created.body.password };
    await readsMark(c, c.second.user, c.second.password);
  }

  async function quarantine(c: Case): Promise<void> {
    expect((await http.delete(`/api/database/${c.databaseId}/`)).status).toBe(204);
    expect((await http.get(`/api/database/${c.databaseId}/`)).body.status).toBe('quarantined');
  }

  const credentialRows = (c: Case) =>
    stack.metadata<{ user: string; status: string }>(
      'SELECT "user", status FROM credential WHERE database_id = $1 ORDER BY id',
      [c.databaseId],
    );

  const CASES: CrashCase[] = [
    {
      state: 'database creating',
      prefix: 'crash_new',
      step: 'database-owner-created',
      task: { type: 'create_database', status: 'error', error: /the database was dropped/ },
      marker: { table: 'database', status: 'creating' },
      prepare: async () => undefined,
      trigger: (c) => createDatabase(c),
      async verify(c) {
        expect(await stack.metadata('SELECT 1 FROM database WHERE name = $1', [c.name])).toEqual(
          [],
        );
        expect(
          await stack.metadata('SELECT 1 FROM credential WHERE "user" = $1', [`u_${c.name}`]),
        ).toEqual([]);
        expect(await usersOnEngine(c)).not.toContain(`u_${c.name}`);
        expect(await databaseOnEngine(c)).toBe(false);
        // The name is free again, and the new database works.
        await withDatabase(c);
        await readsMark(c, c.owner!.user, c.owner!.password);
      },
    },
    {
      state: 'database quarantining',
      prefix: 'crash_quar',
      step: 'access-revoked',
      task: { type: 'quarantine_database', status: 'error', error: /access restored/ },
      marker: { table: 'database', status: 'quarantining' },
      async prepare(c) {
        await withDatabase(c);
        await withSecondCredential(c);
      },
      trigger: (c) => http.delete(`/api/database/${c.databaseId}/`),
      async left(c) {
        // Half done: one of the two credentials lost its access, the other did not yet.
        const works = await Promise.all(
          [c.owner!, c.second!].map((k) =>
            readsMark(c, k.user, k.password).then(
              () => true,
              () => false,
            ),
          ),
        );
        expect(works.sort()).toEqual([false, true]);
      },
      async verify(c) {
        const { body } = await http.get(`/api/database/${c.databaseId}/`);
        expect(body).toMatchObject({ status: 'ready', quarantine_dt: null });
        // Access is back with the stored passwords, the ones handed out before.
        for (const credential of [c.owner!, c.second!]) {
          expect(await passwordOf(credential.id)).toBe(credential.password);
          await readsMark(c, credential.user, credential.password);
        }
        expect(await credentialRows(c)).toEqual([
          { user: c.owner!.user, status: 'ready' },
          { user: c.second!.user, status: 'ready' },
        ]);
      },
    },
    {
      state: 'database restoring',
      prefix: 'crash_rest',
      step: 'access-restored',
      task: { type: 'restore_database', status: 'error', error: /still in quarantine/ },
      marker: { table: 'database', status: 'restoring' },
      async prepare(c) {
        await withDatabase(c);
        await withSecondCredential(c);
        await quarantine(c);
      },
      trigger: (c) => http.post(`/api/database/${c.databaseId}/restore/`),
      async verify(c) {
        const { body } = await http.get(`/api/database/${c.databaseId}/`);
        expect(body.status).toBe('quarantined');
        expect(body.quarantine_dt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        // Back in quarantine: no stored password logs in, neither the ones from before
        // the quarantine nor what the store holds now.
        for (const credential of [c.owner!, c.second!]) {
          await refused(c, credential.user, credential.password);
          await refused(c, credential.user, await passwordOf(credential.id));
        }
        // And a restore works from there: new passwords, the data kept.
        const restored = await http.post(`/api/database/${c.databaseId}/restore/`);
        expect(restored.status).toBe(200);
        expect(restored.body.status).toBe('ready');
        for (const credential of [c.owner!, c.second!]) {
          const fresh = await passwordOf(credential.id);
          expect(fresh).not.toBe(credential.password);
          await readsMark(c, credential.user, fresh);
        }
      },
    },
    {
      state: 'database deleting',
      prefix: 'crash_del',
      step: 'users-dropped',
      task: { type: 'delete_database', status: 'success' },
      marker: { table: 'database', status: 'deleting' },
      async prepare(c) {
        await withDatabase(c);
        await withSecondCredential(c);
        await quarantine(c);
      },
      trigger: (c) => http.delete(`/api/database/${c.databaseId}/`),
      async verify(c) {
        expect((await http.get(`/api/database/${c.databaseId}/`)).status).toBe(404);
        expect(
          await stack.metadata('SELECT 1 FROM database WHERE id = $1', [c.databaseId]),
        ).toEqual([]);
        expect(await credentialRows(c)).toEqual([]);
        const users = await usersOnEngine(c);
        expect(users).not.toContain(c.owner!.user);
        expect(users).not.toContain(c.second!.user);
        expect(await databaseOnEngine(c)).toBe(false);
        await refused(c, c.owner!.user, c.owner!.password);
      },
    },
    {
      state: 'credential creating',
      prefix: 'crash_cnew',
      step: 'credential-user-created',
      task: { type: 'create_credential', status: 'error', error: /the user was dropped/ },
      marker: { table: 'credential', status: 'creating' },
      async prepare(c) {
        await withDatabase(c);
        c.subjectUser = `new_${c.name}`;
      },
      trigger: (c) =>
        http.post('/api/credential/', {
          user: c.subjectUser,
          database: c.databaseId,
          privileges: 'read-write',
        }),
      async verify(c) {
        expect(await usersOnEngine(c)).not.toContain(c.subjectUser);
        expect(await credentialRows(c)).toEqual([{ user: c.owner!.user, status: 'ready' }]);
        await readsMark(c, c.owner!.user, c.owner!.password);
        // The name is free again.
        const again = await http.post('/api/credential/', {
          user: c.subjectUser,
          database: c.databaseId,
          privileges: 'read-write',
        });
        expect(again.status).toBe(201);
        await readsMark(c, c.subjectUser!, again.body.password);
      },
    },
    {
      state: 'credential deleting',
      prefix: 'crash_cdel',
      step: 'credential-marked-deleting',
      task: { type: 'delete_credential', status: 'success' },
      marker: { table: 'credential', status: 'deleting' },
      async prepare(c) {
        await withDatabase(c);
        await withSecondCredential(c);
        c.subjectUser = c.second!.user;
      },
      trigger: (c) => http.delete(`/api/credential/${c.second!.id}/`),
      async verify(c) {
        expect(await usersOnEngine(c)).not.toContain(c.second!.user);
        await refused(c, c.second!.user, c.second!.password);
        expect(await credentialRows(c)).toEqual([{ user: c.owner!.user, status: 'ready' }]);
        expect((await http.get(`/api/credential/${c.second!.id}/`)).status).toBe(404);
        await readsMark(c, c.owner!.user, c.owner!.password);
      },
    },
    {
      state: 'credential resetting',
      prefix: 'crash_reset',
      step: 'password-stored',
      task: { type: 'reset_password', status: 'success' },
      marker: { table: 'credential', status: 'resetting' },
      async prepare(c) {
        await withDatabase(c);
        c.subjectUser = c.owner!.user;
      },
      trigger: (c) => http.post(`/api/credential/${c.owner!.id}/reset_password/`),
      async verify(c) {
        expect(await credentialRows(c)).toEqual([{ user: c.owner!.user, status: 'ready' }]);
        // The password the API shows is the one the engine takes; the old one is gone.
        const shown = await passwordOf(c.owner!.id);
        expect(shown).not.toBe(c.owner!.password);
        await readsMark(c, c.owner!.user, shown);
        await refused(c, c.owner!.user, c.owner!.password);
      },
    },
  ];

  const ROWS = CASES.flatMap((crash) =>
    ENGINES.map((engine) => ({
      crash,
      engine,
      label: `${crash.state} on ${engine.engine}`,
      fault: `${crash.step}@${crash.prefix}_${engine.tag}`,
    })),
  );
  const TABLE = ROWS.map((row, i) => ({ ...row, nextFault: ROWS[i + 1]?.fault }));

  beforeAll(async () => {
    stack = await startStack({
      engines: true,
      sampleDatabases: false,
      env: { DBAAS_RECONCILE_INTERVAL_SECONDS: '1' },
    });
    api = stack.api;
    http = stack.http;
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
    await Promise.all([...providers.values()].map((p) => p.close()));
    await stack?.stop();
  });

  it.each(TABLE)(
    '$label: killed at `$crash.step`, the reconciler ends in the documented outcome',
    async ({ crash, engine, fault, nextFault }) => {
      // Normally started so by the case before; not if that one failed half-way.
      if (api.ended || api.env.DBAAS_TEST_FAULT !== fault) await restart(fault);
      const c: Case = { name: `${crash.prefix}_${engine.tag}`, engine };
      await crash.prepare(c);
      const [{ last }] = await stack.metadata<{ last: number }>(
        'SELECT coalesce(max(id), 0)::int AS last FROM task',
      );

      const died = api.exited();
      const answer = await crash.trigger(c).then(
        (a) => `answered ${a.status}`,
        (error: Error) => error.message,
      );
      // No answer: the process died inside the operation (by a signal, not an exit).
      expect(answer).toBe('fetch failed');
      expect(await died).toBeNull();
      const marker =
        crash.marker.table === 'database'
          ? await stack.metadata<{ status: string }>(
              'SELECT status FROM database WHERE name = $1',
              [c.name],
            )
          : await stack.metadata<{ status: string }>(
              'SELECT status FROM credential WHERE "user" = $1',
              [c.subjectUser],
            );
      expect(marker).toEqual([{ status: crash.marker.status }]);
      await crash.left?.(c);

      await restart(nextFault);
      const task = async () =>
        (
          await stack.metadata<{ status: string; error: string | null }>(
            'SELECT status, error FROM task WHERE type = $1 AND database_name = $2 AND id > $3 ORDER BY id LIMIT 1',
            [crash.task.type, c.name, last],
          )
        )[0];
      await until(async () => (await task()).status !== 'running', 30_000);
      expect(await task()).toEqual({
        status: crash.task.status,
        error: crash.task.error ? expect.stringMatching(crash.task.error) : null,
      });
      await crash.verify(c);
    },
    90_000,
  );
});
