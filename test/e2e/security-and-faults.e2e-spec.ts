import { createHash } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { COMMAND_TIMEOUT_MS, MysqlProvider } from '@dbaas/engines';
import { expectProblem, HttpClient, PASSWORDS_SEEN } from './support/http-client';
import { ApiProcess } from './support/api-process';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

/** Throttling, Idempotency-Key, cross-team isolation, engine and store faults, and secrets in logs. */
describe('security and faults (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;
  const mysql = new MysqlProvider();
  const mysqlTarget = () => ({
    id: 2,
    addresses: [stack.mariadb!.address],
    adminUser: stack.mariadb!.adminUser,
    adminPassword: stack.mariadb!.adminPassword,
  });
  const mariadbAdmin = () =>
    createConnection({
      host: '127.0.0.1',
      port: stack.mariadb!.port,
      user: stack.mariadb!.adminUser,
      password: stack.mariadb!.adminPassword,
    });

  beforeAll(async () => {
    stack = await startStack({ engines: true });
    http = stack.http;
  }, 180_000);

  afterAll(async () => {
    await mysql.close();
    await stack?.stop();
  });

  describe('login throttling', () => {
    it('answers 429 with Retry-After after 5 failed logins of one user from one address, even with the right password', async () => {
      expect(
        (
          await http.post('/api/user/', {
            username: 'mallory',
            password: 'right-password',
            role: 'regular',
            teams: [2],
          })
        ).status,
      ).toBe(201);
      for (let i = 0; i < 5; i++)
        expectProblem(await http.as('mallory:wrong').get('/api/plan/'), 401);
      const throttled = await http.as('mallory:right-password').get('/api/plan/');
      expectProblem(throttled, 429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another user, or the same user from another address, is not affected.
      expect((await http.as('user:123456').get('/api/plan/')).status).toBe(200);
      const elsewhere = await http
        .as('mallory:right-password')
        .get('/api/plan/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(elsewhere.status).toBe(200);
    });

    it('keys the throttle on the socket address when no proxy is trusted: a forged X-Forwarded-For does not reset it', async () => {
      const untrusting = await ApiProcess.start({ ...stack.api.env, DBAAS_TRUST_PROXY: 'false' });
      try {
        const direct = new HttpClient(untrusting.baseUrl);
        expect(
          (
            await direct.post('/api/user/', {
              username: 'trudy',
              password: 'right-password',
              role: 'regular',
              teams: [2],
            })
          ).status,
        ).toBe(201);
        for (let i = 0; i < 5; i++) {
          const forged = { 'x-forwarded-for': `198.51.100.${i}` };
          expectProblem(await direct.as('trudy:wrong').get('/api/plan/', { headers: forged }), 401);
        }
        const again = await direct
          .as('trudy:right-password')
          .get('/api/plan/', { headers: { 'x-forwarded-for': '198.51.100.77' } });
        expectProblem(again, 429);
        // Nor does it believe X-Forwarded-Host for the links it builds.
        const listed = await direct.get('/api/plan/', {
          headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
        });
        expect(listed.text).not.toContain('evil.example');
      } finally {
        await untrusting.stop();
      }
    }, 60_000);
  });

  describe('Idempotency-Key', () => {
    it('replays the first answer for the same key and body, and refuses another body with 422', async () => {
      const headers = { 'idempotency-key': 'project-key-1' };
      const first = await http.post('/api/project/', { name: 'idem-project' }, { headers });
      expect(first.status).toBe(201);
      const again = await http.post('/api/project/', { name: 'idem-project' }, { headers });
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('location')).toBe(first.headers.get('location'));
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(
        await stack.metadata("SELECT id FROM project WHERE name = 'idem-project'"),
      ).toHaveLength(1);
      expectProblem(await http.post('/api/project/', { name: 'other-project' }, { headers }), 422);
      // Keys are per user: the same key from another user is a new request.
      expect(
        (await http.as('user:123456').post('/api/project/', { name: 'users-project' }, { headers }))
          .status,
      ).toBe(201);
    });

    it('replays a credential with its password, stored sealed, and answers 409 while the first request runs', async () => {
      const created = await http.post(
        '/api/credential/',
        { user: 'idem_user', database: 1 },
        { headers: { 'idempotency-key': 'cred-1' } },
      );
      expect(created.status).toBe(201);
      const replay = await http.post(
        '/api/credential/',
        { user: 'idem_user', database: 1 },
        { headers: { 'idempotency-key': 'cred-1' } },
      );
      expect(replay.body.password).toBe(created.body.password);
      const stored = await stack.metadata<{ response_encrypted: string }>(
        "SELECT response_encrypted FROM idempotency_key WHERE key = 'cred-1'",
      );
      expect(stored[0].response_encrypted).toMatch(/^v1:/);
      expect(stored[0].response_encrypted).not.toContain(created.body.password);

      // Another session holds the new database's lock (as another API process at work on
      // that name would): the first request waits for it, with no engine timeout running.
      const holder = new Client({ connectionString: stack.metadataUrl });
      await holder.connect();
      const lockId = createHash('sha256').update('database:1:idem_db').digest().readBigInt64BE(0);
      await holder.query('SELECT pg_advisory_lock($1)', [lockId.toString()]);
      const body = { name: 'idem_db', plan: 2, environment: 1 };
      const headers = { 'idempotency-key': 'db-1' };
      const slow = http.post('/api/database/', body, { headers });
      try {
        await until(
          async () =>
            (await stack.metadata("SELECT 1 FROM idempotency_key WHERE key = 'db-1'")).length === 1,
        );
        expectProblem(await http.post('/api/database/', body, { headers }), 409);
      } finally {
        await holder.query('SELECT pg_advisory_unlock($1)', [lockId.toString()]);
        await holder.end();
      }
      const first = await slow;
      expect(first.status).toBe(201);
      const retry = await http.post('/api/database/', body, { headers });
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(await stack.metadata("SELECT id FROM database WHERE name = 'idem_db'")).toHaveLength(
        1,
      );
    }, 60_000);

    it('refuses a malformed key with 400', async () => {
      expectProblem(
        await http.post(
          '/api/project/',
          { name: 'x1' },
          { headers: { 'idempotency-key': 'a'.repeat(300) } },
        ),
        400,
      );
    });
  });

  describe('isolation between teams', () => {
    it('answers 404 on every route for a database of another team, and changes nothing', async () => {
      const regular = http.as('user:123456');
      const before = await stack.metadata('SELECT id, status FROM database ORDER BY id');
      const task = (await http.get('/api/task/?database=1')).body.task[0];
      const attempts = [
        regular.get('/api/database/1/'),
        regular.put('/api/database/1/', { description: 'mine' }),
        regular.patch('/api/database/1/', { description: 'mine' }),
        regular.delete('/api/database/1/'),
        regular.post('/api/database/1/restore/'),
        regular.get('/api/credential/1/'),
        regular.post('/api/credential/1/reset_password/'),
        regular.delete('/api/credential/1/'),
        regular.get(`/api/task/${task.id}/`),
        regular.post('/api/credential/', { user: 'sneaky', database: '/api/database/1/' }),
      ];
      for (const answer of await Promise.all(attempts)) expectProblem(answer, 404);
      const listed = await regular.get('/api/database/?page_size=100');
      expect(listed.body.database.map((d: { id: number }) => d.id)).not.toContain(1);
      const credentials = await regular.get('/api/credential/?page_size=100');
      expect(credentials.body.credential.map((c: { id: number }) => c.id)).not.toContain(1);
      expect(await stack.metadata('SELECT id, status FROM database ORDER BY id')).toEqual(before);
    });
  });

  describe('engine faults', () => {
    it('answers a create on a hung engine within two statement timeouts (create, then rollback), and leaves nothing once it recovers', async () => {
      const admin = await mariadbAdmin();
      await admin.query('FLUSH TABLES WITH READ LOCK');
      let answer;
      try {
        answer = await http.post('/api/database/', {
          name: 'hung_engine',
          plan: 2,
          environment: 1,
        });
      } finally {
        await admin.query('UNLOCK TABLES');
        await admin.end();
      }
      expect([502, 503]).toContain(answer.status);
      // Not a hung request: the create's statement times out, then its rollback's (it runs
      // under the create's lock, before the answer); the margin absorbs a loaded machine.
      expect(answer.ms).toBeLessThan(2 * COMMAND_TIMEOUT_MS + 5_000);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      await until(
        async () =>
          (await stack.metadata("SELECT 1 FROM database WHERE name = 'hung_engine'")).length === 0,
        90_000,
      );
      expect(await mysql.listDatabases(mysqlTarget())).not.toContain('hung_engine');
      expect(await mysql.listUsers(mysqlTarget())).not.toContain('u_hung_engine');
      expect(
        (await http.post('/api/database/', { name: 'hung_engine', plan: 2, environment: 1 }))
          .status,
      ).toBe(201);
    }, 120_000);

    it('answers 503 when the engine refuses the admin login, and works again once the login is fixed', async () => {
      expect(
        (await http.patch('/api/infra/2/', { admin_password: 'not-the-password' })).status,
      ).toBe(200);
      const refused = await http.post('/api/database/', {
        name: 'bad_admin',
        plan: 2,
        environment: 1,
      });
      expect([502, 503]).toContain(refused.status);
      expect(refused.ms).toBeLessThan(5_000);
      expect(refused.text).not.toContain('not-the-password');
      expect(await stack.metadata("SELECT 1 FROM database WHERE name = 'bad_admin'")).toEqual([]);
      expect(
        (await http.patch('/api/infra/2/', { admin_password: stack.mariadb!.adminPassword }))
          .status,
      ).toBe(200);
      expect(
        (await http.post('/api/database/', { name: 'bad_admin', plan: 2, environment: 1 })).status,
      ).toBe(201);
    }, 60_000);

    it('survives a restart of the metadata PostgreSQL without restarting the API', async () => {
      await stack.pg.stop();
      try {
        const down = await http.get('/api/plan/');
        expectProblem(down, 503);
        expect((await http.as(null).get('/health')).status).toBe(503);
      } finally {
        await stack.pg.start();
      }
      await until(async () => (await http.get('/api/plan/')).status === 200, 20_000);
      expect((await http.post('/api/project/', { name: 'after-restart' })).status).toBe(201);
    }, 60_000);
  });

  describe('secrets', () => {
    it('logged none of the passwords the API handed out, nor the engine admin passwords', async () => {
      // More passwords through this run's logs: reveals, a reset and a new credential.
      for (const id of [1, 2, 3]) await http.get(`/api/credential/${id}/`);
      await http.post('/api/credential/1/reset_password/');
      await http.post('/api/credential/', {
        user: 'log_check',
        database: 1,
        privileges: 'read-only',
      });
      expect(PASSWORDS_SEEN.size).toBeGreaterThan(3);
      const logs = stack.api.logs;
      expect(logs.length).toBeGreaterThan(0);
      for (const password of [
        ...PASSWORDS_SEEN,
        stack.mariadb!.adminPassword,
        stack.pg.adminPassword,
        stack.redis!.adminPassword,
      ]) {
        expect(logs.includes(password) ? password : null).toBeNull();
      }
    });

    it('stores no plaintext engine or credential password in any metadata table', async () => {
      const tables = await stack.metadata<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      );
      const secrets = [
        ...PASSWORDS_SEEN,
        stack.mariadb!.adminPassword,
        stack.pg.adminPassword,
        stack.redis!.adminPassword,
      ];
      for (const { table_name } of tables) {
        const dump = JSON.stringify(await stack.metadata(`SELECT * FROM "${table_name}"`));
        for (const secret of secrets)
          expect(dump.includes(secret) ? `${table_name}: ${secret}` : null).toBeNull();
      }
    });
  });
});
