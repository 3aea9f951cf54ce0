import { apiLoginEnv, CLI_MAIN, runNode } from './support/api-process';
import { expectProblem, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

/** The sample infras: 1 PostgreSQL, 2 MariaDB, 3 MongoDB (closed port), 4 Redis. */
const HARNESS_INFRAS = [1, 2, 4];

/**
 * Infra safety (SPEC §11): engines that do not protect their tenants are named, to dbas
 * only; other users see no address, admin login or engine error, and never make the API
 * ping an engine; /health/ready reuses its probes for a few seconds.
 *
 * The harness's servers use real passwords (and Redis users persisted by CONFIG REWRITE),
 * so they show no warning. This machine's own services are exactly insecure: PostgreSQL
 * trust auth on 127.0.0.1:5432, MariaDB root without a password on 127.0.0.1:3306, the
 * Redis default user without a password and no config or ACL file on 127.0.0.1:6379.
 * Infras pointing at them are registered with capacity 0, so nothing is placed there.
 */
describe('infra warnings and what non-dbas see (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;
  const local: Record<'postgresql' | 'mysql' | 'redis', number> = {
    postgresql: 0,
    mysql: 0,
    redis: 0,
  };

  beforeAll(async () => {
    stack = await startStack({ engines: true });
    http = stack.http;
    const register = async (name: string, n: number, address: string, admin: string) => {
      const created = await http.post('/api/infra/', {
        name,
        engine: n,
        plan: n,
        environment: 1,
        addresses: [address],
        admin_user: admin,
        // Whatever the password: trust (PostgreSQL) and nopass (Redis) let any one in.
        admin_password: 'not-the-password',
        capacity: 0,
      });
      expect(created.status).toBe(201);
      return created.body.id as number;
    };
    local.postgresql = await register('pg-local-trust', 1, '127.0.0.1:5432', 'postgres');
    local.mysql = await register('mysql-local-root', 2, '127.0.0.1:3306', 'root');
    local.redis = await register('redis-local-open', 4, '127.0.0.1:6379', 'default');
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('warnings', () => {
    it.each(HARNESS_INFRAS)(
      'infra %i on a harness server (real passwords): reachable, no warning',
      async (id) => {
        const detail = await http.get(`/api/infra/${id}/`);
        expect(detail.status).toBe(200);
        expect(detail.body.status).toMatchObject({ reachable: true, error: null });
        expect(detail.body.warnings).toEqual([]);
      },
    );

    it("names each way this machine's own services leave their tenants open", async () => {
      const [pg, mysql, redis] = await Promise.all(
        [local.postgresql, local.mysql, local.redis].map((id) => http.get(`/api/infra/${id}/`)),
      );
      expect(pg.body.status.reachable).toBe(true);
      expect(pg.body.warnings).toEqual([
        expect.stringMatching(/^PostgreSQL trusts connections from 127\.0\.0\.1 \(pg_hba/),
      ]);
      // Root has no password, so the stored one is refused; the warning shows all the same.
      expect(mysql.body.status.reachable).toBe(false);
      expect(mysql.body.warnings).toEqual([
        expect.stringMatching(/MySQL admin root has no password/),
      ]);
      expect(redis.body.status.reachable).toBe(true);
      expect(redis.body.warnings).toEqual([
        expect.stringMatching(/default user is enabled without a password/),
        expect.stringMatching(/ACL changes are not persisted/),
      ]);
      for (const answer of [pg, mysql, redis])
        expect(answer.text).not.toContain('not-the-password');
    });

    it('/health/ready lists them to a dba only; anonymous and regular callers get none', async () => {
      const asDba = await http.get('/health/ready');
      expect(asDba.status).toBe(200);
      const byId = new Map<number, any>(asDba.body.infras.map((i: any) => [i.id, i]));
      for (const id of HARNESS_INFRAS) expect(byId.get(id).warnings).toEqual([]);
      expect(byId.get(local.postgresql).warnings).toHaveLength(1);
      expect(byId.get(local.mysql).warnings).toHaveLength(1);
      expect(byId.get(local.redis).warnings).toHaveLength(2);

      for (const caller of [null, 'user:123456', 'admin:wrong-password']) {
        const ready = await http.as(caller).get('/health/ready');
        expect(ready.status).toBe(200);
        expect(ready.body.infras).toHaveLength(asDba.body.infras.length);
        for (const infra of ready.body.infras) expect(infra).not.toHaveProperty('warnings');
      }
    });

    it('dbaas infra check prints them, as a table and as JSON, and exits 1 for the unreachable ones', async () => {
      const table = await runNode(CLI_MAIN, ['infra', 'check'], apiLoginEnv(stack.api.baseUrl));
      expect(table.code).toBe(1);
      const [, warnings] = table.stdout.split('\nWarnings:\n');
      expect(warnings.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^ {2}pg-local-trust: PostgreSQL trusts connections from/),
        expect.stringMatching(/^ {2}mysql-local-root: The MySQL admin root has no password/),
        expect.stringMatching(/^ {2}redis-local-open: The Redis default user is enabled/),
        expect.stringMatching(/^ {2}redis-local-open: Redis ACL changes are not persisted/),
      ]);
      expect(table.stderr).toMatch(/2 of 7 infra\(s\) unreachable/);

      const json = await runNode(
        CLI_MAIN,
        ['infra', 'check', '--json'],
        apiLoginEnv(stack.api.baseUrl),
      );
      const checks = JSON.parse(json.stdout) as Array<{ id: number; warnings: string[] }>;
      const counts = Object.fromEntries(checks.map((c) => [c.id, c.warnings.length]));
      expect(counts).toEqual({
        1: 0,
        2: 0,
        3: 0,
        4: 0,
        [local.postgresql]: 1,
        [local.mysql]: 1,
        [local.redis]: 2,
      });
    });
  });

  describe('what a regular or broker user sees of an infra', () => {
    let broker: HttpClient;

    beforeAll(async () => {
      const created = await http.post('/api/user/', {
        username: 'infra_broker',
        password: 'broker-pw-123',
        role: 'broker',
        teams: ['/api/team/1/'],
      });
      expect(created.status).toBe(201);
      broker = http.as('infra_broker:broker-pw-123');
    });

    it('no addresses, admin login, reachability or warnings, in the list and the detail', async () => {
      for (const client of [http.as('user:123456'), broker]) {
        const list = await client.get('/api/infra/');
        expect(list.status).toBe(200);
        expect(list.body.infra.length).toBeGreaterThanOrEqual(4);
        for (const infra of list.body.infra) {
          expect(infra).not.toHaveProperty('addresses');
          expect(infra).not.toHaveProperty('admin_user');
        }
        for (const id of [2, 3, local.mysql]) {
          const detail = await client.get(`/api/infra/${id}/`);
          expect(detail.status).toBe(200);
          expect(Object.keys(detail.body).sort()).toEqual(
            [
              '_links',
              'capacity',
              'databases',
              'engine',
              'environment',
              'id',
              'name',
              'plan',
              'plans',
            ].sort(),
          );
          for (const hidden of [
            stack.mariadb!.address,
            '127.0.0.1:9',
            '127.0.0.1:3306',
            'unavailable',
          ])
            expect(detail.text).not.toContain(hidden);
        }
      }
    });

    it('a dba still sees them', async () => {
      const detail = await http.get('/api/infra/3/');
      expect(detail.body).toMatchObject({
        addresses: ['127.0.0.1:9'],
        admin_user: 'admin',
        status: { reachable: false, error: expect.stringContaining('127.0.0.1:9') },
        warnings: [],
      });
      const list = await http.get('/api/infra/');
      expect(list.body.infra[0]).toHaveProperty('admin_user');
    });

    it('their reads never reach an engine', async () => {
      const before = await pings();
      for (const client of [http.as('user:123456'), broker]) {
        for (const id of [1, 2, 4])
          expect((await client.get(`/api/infra/${id}/`)).status).toBe(200);
      }
      expect(await pings()).toBe(before);
      expect((await http.get('/api/infra/1/')).status).toBe(200);
      expect(await pings()).toBe(before + 1);
    });
  });

  it('an unreachable engine is a 503 for everyone, and only a dba reads which server it is', async () => {
    const regular = http.as('user:123456');
    const created = await regular.post('/api/database/', {
      name: 'engine_error_shown',
      plan: 2,
      environment: 1,
    });
    expect(created.status).toBe(201);
    const credentialPath = new URL(created.body.credentials[0]._links.self).pathname;
    await stack.mariadb!.stop();
    try {
      const asRegular = await regular.post(`${credentialPath}reset_password/`);
      expectProblem(asRegular, 503);
      expect(asRegular.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(asRegular.body.detail).toBe(
        'The database engine is not reachable right now; retry shortly.',
      );
      expect(asRegular.text).not.toContain(stack.mariadb!.address);
      const asDba = await http.post(`${credentialPath}reset_password/`);
      expectProblem(asDba, 503);
      expect(asDba.body.detail).toContain(stack.mariadb!.address);
      // The failed tasks say the same: the server's address for a dba only.
      const taskPath = `/api/task/?database=${created.body.id}&type=reset_password&status=error`;
      const regularTasks = (await regular.get(taskPath)).body.task;
      expect(regularTasks).toHaveLength(2);
      for (const task of regularTasks) {
        expect(task.error).toMatch(/^mysql server is unavailable/);
        expect(task.error).not.toContain(stack.mariadb!.address);
      }
      const dbaTasks = (await http.get(taskPath)).body.task;
      expect(dbaTasks).toHaveLength(2);
      for (const task of dbaTasks) expect(task.error).toContain(stack.mariadb!.address);
    } finally {
      await stack.mariadb!.start();
    }
  }, 60_000);

  it('/health/ready reuses its probes: five calls in a row ping each infra about once, and check nothing', async () => {
    const checksBefore = await operations('securityWarnings');
    const infras = (await http.as(null).get('/health/ready')).body.infras.length;
    const before = await pings();
    for (let i = 0; i < 5; i++) expect((await http.as(null).get('/health/ready')).status).toBe(200);
    // At most two rounds, should a cache period end between the calls; not one per call.
    expect((await pings()) - before).toBeLessThanOrEqual(2 * infras);
    // Nobody asked for the warnings: no engine saw a check (PostgreSQL's is a failed login).
    expect(await operations('securityWarnings')).toBe(checksBefore);
  });

  /** Engine operations sent so far, from /metrics (every engine and outcome). */
  async function operations(operation: 'ping' | 'securityWarnings'): Promise<number> {
    const metrics = await http.as(null).get('/metrics');
    expect(metrics.status).toBe(200);
    const count = new RegExp(
      `^dbaas_engine_operation_duration_seconds_count\\{[^}]*operation="${operation}"[^}]*\\} (\\d+)`,
    );
    let total = 0;
    for (const line of String(metrics.text).split('\n')) {
      const match = count.exec(line);
      if (match) total += Number(match[1]);
    }
    return total;
  }
  const pings = () => operations('ping');
});
