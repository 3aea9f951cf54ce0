import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Connection, createConnection, ResultSetHeader } from 'mysql2/promise';
import { Client } from 'pg';
import { EngineServer } from '../harness';
import { HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';
import { until } from './support/until';

const MiB = 1024 * 1024;
/** Random hex: incompressible enough (PostgreSQL stores it EXTERNAL, uncompressed). */
const chunk = () => randomBytes(32 * 1024).toString('hex'); // 64 KiB of text
const FILL_ROWS = 32; // 2 MiB: twice the plan's limit
/**
 * The fill's rows (`fill_<i>`, a chunk each), written in one statement. Written one by one
 * (a second or so under load), the size check (every second) could see 1 MiB and block
 * writes before the last one; one statement narrows that window to its own few tens of ms
 * (PostgreSQL and MariaDB measure files, which grow before the commit; Redis's MSET is atomic).
 */
const fillRows = () => Array.from({ length: FILL_ROWS }, (_, i) => [`fill_${i}`, chunk()]);

/**
 * What a tenant does with its credential, through the engine's own client: each call logs
 * in afresh (a restriction ends open sessions on PostgreSQL and MariaDB).
 */
interface Tenant {
  /** Creates the table (nothing on Redis). */
  init(user: string, password: string): Promise<void>;
  fill(user: string, password: string): Promise<void>;
  /** One small row or key; rejects with the engine's error when writes are blocked. */
  insert(user: string, password: string, key: string): Promise<void>;
  /** Deletes one filled row or key; resolves to how many went. */
  deleteOne(user: string, password: string): Promise<number>;
  /** Deletes everything, giving the space back at once. */
  deleteAll(user: string, password: string): Promise<void>;
}

function postgresTenant(server: EngineServer, database: string): Tenant {
  const session = async <T>(user: string, password: string, work: (c: Client) => Promise<T>) => {
    const client = new Client({ host: server.host, port: server.port, user, password, database });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  return {
    init: (user, password) =>
      session(user, password, async (c) => {
        await c.query('CREATE TABLE kv (k text PRIMARY KEY, v text)');
        await c.query('ALTER TABLE kv ALTER COLUMN v SET STORAGE EXTERNAL');
      }),
    fill: (user, password) =>
      session(user, password, async (c) => {
        const rows = fillRows();
        const values = rows.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
        await c.query(`INSERT INTO kv VALUES ${values}`, rows.flat());
      }),
    insert: (user, password, key) =>
      session(user, password, async (c) => {
        await c.query('INSERT INTO kv VALUES ($1, $2)', [key, 'x']);
      }),
    deleteOne: (user, password) =>
      session(user, password, async (c) => {
        const { rowCount } = await c.query("DELETE FROM kv WHERE k = 'fill_0'");
        return rowCount ?? 0;
      }),
    // DELETE frees space only once VACUUM ran; TRUNCATE at once.
    deleteAll: (user, password) => session(user, password, (c) => c.query('TRUNCATE kv')).then(),
  };
}

function mariadbTenant(server: EngineServer, database: string): Tenant {
  const session = async <T>(
    user: string,
    password: string,
    work: (c: Connection) => Promise<T>,
  ) => {
    const connection = await createConnection({
      host: server.host,
      port: server.port,
      user,
      password,
      database,
    });
    try {
      return await work(connection);
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
  };
  return {
    init: (user, password) =>
      session(user, password, (c) =>
        c.query('CREATE TABLE kv (k varchar(64) PRIMARY KEY, v longtext)'),
      ).then(),
    fill: (user, password) =>
      session(user, password, (c) => c.query('INSERT INTO kv VALUES ?', [fillRows()])).then(),
    insert: (user, password, key) =>
      session(user, password, (c) => c.query('INSERT INTO kv VALUES (?, ?)', [key, 'x'])).then(),
    deleteOne: (user, password) =>
      session(user, password, async (c) => {
        const [result] = await c.query<ResultSetHeader>("DELETE FROM kv WHERE k = 'fill_0'");
        return result.affectedRows;
      }),
    // DELETE leaves the InnoDB file as large; TRUNCATE (owners keep DROP) shrinks it.
    deleteAll: (user, password) =>
      session(user, password, (c) => c.query('TRUNCATE TABLE kv')).then(),
  };
}

function redisTenant(server: EngineServer, database: string): Tenant {
  const session = async <T>(user: string, password: string, work: (r: Redis) => Promise<T>) => {
    const redis = new Redis({
      host: server.host,
      port: server.port,
      username: user,
      password,
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    await redis.connect();
    try {
      return await work(redis);
    } finally {
      redis.disconnect();
    }
  };
  const fillKeys = Array.from({ length: FILL_ROWS }, (_, i) => `${database}:fill_${i}`);
  return {
    init: async () => undefined,
    fill: (user, password) =>
      session(user, password, (r) =>
        r.mset(fillRows().flatMap(([key, value]) => [`${database}:${key}`, value])),
      ).then(),
    insert: (user, password, key) =>
      session(user, password, (r) => r.set(`${database}:${key}`, 'x')).then(),
    deleteOne: (user, password) =>
      session(user, password, async (r) => {
        // EXPIRE stays allowed too.
        expect(await r.expire(fillKeys[1], 3600)).toBe(1);
        return r.del(fillKeys[0]);
      }),
    deleteAll: (user, password) => session(user, password, (r) => r.del(...fillKeys)).then(),
  };
}

/**
 * The plan's size limit (SPEC §10) on real servers, the check every second: a 1 MiB plan,
 * filled past it with the engine's own client and the issued credential, loses its writes
 * (the engine's own refusal) but keeps reads and deletes, shows `over_size_limit`, and gets
 * its writes back once data is deleted. A credential created, reset, restored from
 * quarantine or recreated by drift repair meanwhile stays restricted. PostgreSQL measures its tables (not the 7-8 MB of system catalogs).
 */
describe('size limit (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;

  beforeAll(async () => {
    stack = await startStack({
      engines: true,
      sampleDatabases: false,
      env: { DBAAS_SIZE_CHECK_INTERVAL_SECONDS: '1', DBAAS_RECONCILE_INTERVAL_SECONDS: '1' },
    });
    http = stack.http;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  /** A plan of `limit` bytes on the engine of `basePlan`, with an infra on `server`. */
  async function limitedPlan(engine: string, basePlan: number, server: EngineServer) {
    const base = await http.get(`/api/plan/${basePlan}/`);
    expect(base.status).toBe(200);
    const plan = await http.post('/api/plan/', {
      name: `one-mib-${engine}`,
      engine: base.body.engine,
      environments: [1],
      size_limit_in_bytes: MiB,
    });
    expect(plan.status).toBe(201);
    const infra = await http.post('/api/infra/', {
      name: `one-mib-${engine}`,
      engine: base.body.engine,
      plan: plan.body.id,
      environment: 1,
      addresses: [server.address],
      admin_user: server.adminUser,
      admin_password: server.adminPassword,
      capacity: 10,
    });
    expect(infra.status).toBe(201);
    return plan.body.id as number;
  }

  async function credentialOf(path: string) {
    const credential = await http.get(path);
    expect(credential.status).toBe(200);
    return {
      id: credential.body.id as number,
      user: credential.body.user as string,
      password: credential.body.password as string,
    };
  }

  const engines = [
    {
      engine: 'postgresql',
      basePlan: 1,
      server: (s: TestStack) => s.pg,
      tenant: postgresTenant,
      dropUser: async (s: TestStack, user: string) => {
        const admin = new Client({ connectionString: s.pg.url });
        await admin.connect();
        try {
          await admin.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1',
            [user],
          );
          await admin.query(`DROP ROLE "${user}"`);
        } finally {
          await admin.end();
        }
      },
      // 42501 insufficient_privilege
      refusal: expect.objectContaining({
        code: '42501',
        message: 'permission denied for table kv',
      }),
    },
    {
      engine: 'mysql',
      basePlan: 2,
      server: (s: TestStack) => s.mariadb!,
      tenant: mariadbTenant,
      dropUser: async (s: TestStack, user: string) => {
        const admin = await createConnection(s.mariadb!.url);
        try {
          await admin.query('DROP USER ?@?', [user, '%']);
        } finally {
          await admin.end();
        }
      },
      refusal: expect.objectContaining({
        code: 'ER_TABLEACCESS_DENIED_ERROR',
        message: expect.stringMatching(/^INSERT command denied to user /),
      }),
    },
    {
      engine: 'redis',
      basePlan: 4,
      server: (s: TestStack) => s.redis!,
      tenant: redisTenant,
      dropUser: async (s: TestStack, user: string) => {
        const admin = new Redis(s.redis!.url, { lazyConnect: true });
        await admin.connect();
        try {
          expect(await admin.call('ACL', 'DELUSER', user)).toBe(1);
        } finally {
          admin.disconnect();
        }
      },
      refusal: expect.objectContaining({
        message: expect.stringMatching(/^NOPERM .*'set' command/),
      }),
    },
  ];

  describe.each(engines)('$engine', (c) => {
    it('blocks writes over 1 MiB but keeps reads and deletes; writes return under it', async () => {
      const plan = await limitedPlan(c.engine, c.basePlan, c.server(stack));
      const name = `limited_${c.engine}`;
      const created = await http.post('/api/database/', { name, plan, environment: 1 });
      expect(created.status).toBe(201);
      expect(created.body.over_size_limit).toBe(false);
      const path = new URL(created.body._links.self).pathname;
      const owner = await credentialOf(new URL(created.body.credentials[0]._links.self).pathname);
      const tenant = c.tenant(c.server(stack), name);
      const detail = async () => (await http.get(path)).body;
      const tasks = async (type: string) =>
        (await http.get(`/api/task/?database=${created.body.id}&type=${type}`)).body.task;

      await tenant.init(owner.user, owner.password);
      await tenant.insert(owner.user, owner.password, 'before');
      await tenant.fill(owner.user, owner.password);

      // Over the limit within a check round or two.
      await until(async () => (await detail()).over_size_limit === true, 30_000, 250);
      expect((await detail()).used_size_in_bytes).toBeGreaterThan(MiB);
      await until(async () => (await tasks('restrict_writes'))[0]?.status === 'success');
      expect(await tasks('restrict_writes')).toEqual([
        expect.objectContaining({ type: 'restrict_writes', status: 'success' }),
      ]);

      await expect(tenant.insert(owner.user, owner.password, 'after')).rejects.toEqual(c.refusal);
      expect(await tenant.deleteOne(owner.user, owner.password)).toBe(1);

      // A credential made now is made restricted; a reset password keeps the restriction.
      const extra = await http.post('/api/credential/', {
        user: `more_${c.engine}`,
        database: created.body.id,
      });
      expect(extra.status).toBe(201);
      const more = { user: extra.body.user as string, password: extra.body.password as string };
      await expect(tenant.insert(more.user, more.password, 'more')).rejects.toEqual(c.refusal);
      const reset = await http.post(`/api/credential/${owner.id}/reset_password/`);
      expect(reset.status).toBe(200);
      owner.password = reset.body.password;
      await expect(tenant.insert(owner.user, owner.password, 'after')).rejects.toEqual(c.refusal);

      // Through quarantine and back (new passwords), still restricted.
      expect((await http.delete(path)).status).toBe(204);
      expect((await http.post(`${path}restore/`)).status).toBe(200);
      owner.password = (await credentialOf(`/api/credential/${owner.id}/`)).password;
      more.password = (await credentialOf(`/api/credential/${extra.body.id}/`)).password;
      await expect(tenant.insert(owner.user, owner.password, 'after')).rejects.toEqual(c.refusal);

      // A credential dropped by hand comes back through drift repair, still restricted.
      await c.dropUser(stack, more.user);
      // Drift repair runs with the reconciler (every second here); the size check, whose timer
      // ticks in step with it, holds the database's lock for a moment each round, which drift
      // repair waits out within its round (BUSY_LOCK_RETRIES): before that it could pass the
      // database by for minutes.
      await until(
        async () => (await tasks('repair_credential'))[0]?.status === 'success',
        60_000,
        250,
      );
      await expect(tenant.insert(more.user, more.password, 'more')).rejects.toEqual(c.refusal);
      expect((await detail()).over_size_limit).toBe(true);

      await tenant.deleteAll(owner.user, owner.password);
      await until(async () => (await detail()).over_size_limit === false, 30_000, 250);
      expect((await detail()).used_size_in_bytes).toBeLessThanOrEqual(MiB);
      await until(async () => (await tasks('allow_writes'))[0]?.status === 'success');

      await tenant.insert(owner.user, owner.password, 'after');
      await tenant.insert(more.user, more.password, 'more');
      expect(await tasks('restrict_writes')).toHaveLength(1);
    }, 300_000);
  });
});
