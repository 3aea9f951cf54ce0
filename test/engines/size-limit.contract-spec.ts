import { randomBytes } from 'node:crypto';
import { generatePassword } from '@dbaas/core';
import {
  MysqlProvider,
  PostgresqlProvider,
  RedisProvider,
  type EngineProvider,
  type InfraTarget,
  type Privileges,
} from '@dbaas/engines';
import { Client } from 'pg';
import { EngineServer, startMariaDb, startPostgres, startRedis, targetOf } from '../harness';
import { Login, UserSession, mysqlLogin, postgresLogin, redisLogin } from './engine-sessions';

/** How each engine refuses a write to a user whose writes are blocked. */
const REFUSED = /permission denied for table kv|INSERT(, UPDATE)? command denied|NOPERM/;

/**
 * restrictWrites / allowWrites (SPEC §10) on real servers, through the engine's own client:
 * owner and read-write users lose their writes and keep their reads, read-only users keep
 * what they had, a session open before the restriction cannot write either, a user made
 * with `writesBlocked` is born restricted, missing users are skipped, and allowWrites gives
 * everything back. Deletes are proven by test/e2e/size-limit.e2e-spec.ts.
 */
describe.each([
  {
    engine: 'postgresql',
    start: startPostgres,
    make: () => new PostgresqlProvider(),
    login: postgresLogin,
    // A session ended by the admin (pg_terminate_backend).
    ended:
      /terminating connection due to administrator command|Connection terminated|not queryable/,
  },
  {
    engine: 'mysql (MariaDB)',
    start: startMariaDb,
    make: () => new MysqlProvider(),
    login: mysqlLogin,
    // A session ended by the admin (KILL CONNECTION).
    ended: /Connection was killed|closed state|connection is closed/i,
  },
  // Redis ends no session: the new ACL binds the open ones at once.
  {
    engine: 'redis',
    start: startRedis,
    make: () => new RedisProvider(),
    login: redisLogin,
    ended: REFUSED,
  },
])('$engine: write restriction', (c) => {
  let server: EngineServer;
  let provider: EngineProvider;
  let infra: InfraTarget;
  let login: Login;
  const suffix = randomBytes(3).toString('hex');
  const db = `sl_${suffix}`;
  const users: Record<Privileges, { user: string; password: string }> = {
    owner: { user: `sl_owner_${suffix}`, password: generatePassword() },
    'read-write': { user: `sl_rw_${suffix}`, password: generatePassword() },
    'read-only': { user: `sl_ro_${suffix}`, password: generatePassword() },
  };
  const access = (Object.keys(users) as Privileges[]).map((privileges) => ({
    user: users[privileges].user,
    privileges,
  }));
  const sessions: UserSession[] = [];
  const as = async (privileges: Privileges) => {
    const session = await login(db, users[privileges].user, users[privileges].password);
    sessions.push(session);
    return session;
  };

  beforeAll(async () => {
    server = await c.start();
    provider = c.make();
    infra = targetOf(server);
    login = c.login(server.host, server.port);
    await provider.createDatabase(infra, db);
    for (const { user, privileges } of access) {
      await provider.createUser(infra, {
        database: db,
        user,
        password: users[privileges].password,
        privileges,
      });
    }
    const owner = await as('owner');
    await owner.init();
    await owner.write('k', 'v0');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await provider?.close();
    await server?.destroy();
  });

  it('restrictWrites: owner and read-write keep reads but not writes, also in a session opened before', async () => {
    const before = await as('owner');
    await before.write('k', 'v1');
    const readerBefore = await as('read-only');
    expect(await readerBefore.read('k')).toBe('v1');

    await provider.restrictWrites(infra, db, access);
    await provider.restrictWrites(infra, db, access); // converges

    for (const privileges of ['owner', 'read-write'] as const) {
      const session = await as(privileges);
      await expect(session.write('k', 'v2')).rejects.toThrow(REFUSED);
      expect(await session.read('k')).toBe('v1');
    }
    expect(await (await as('read-only')).read('k')).toBe('v1');
    // Ended (PostgreSQL, MariaDB) or bound by the new rules at once (Redis).
    await expect(before.write('k', 'v3')).rejects.toThrow(c.ended);
    // A read-only credential's session is not ended: it keeps exactly what it had.
    expect(await readerBefore.read('k')).toBe('v1');
  });

  it('createUser with writesBlocked makes a restricted user; a missing user is skipped', async () => {
    const late = { user: `sl_late_${suffix}`, password: generatePassword() };
    const spec = { database: db, ...late, privileges: 'owner' as const, writesBlocked: true };
    await provider.createUser(infra, spec);
    const session = await login(db, late.user, late.password);
    sessions.push(session);
    await expect(session.write('k', 'late')).rejects.toThrow(REFUSED);
    const readable = await (await as('read-only')).read('k');
    expect(readable).toEqual(expect.any(String));
    expect(await session.read('k')).toBe(readable);
    await provider.dropUser(infra, spec);

    await expect(
      provider.restrictWrites(infra, db, [{ user: late.user, privileges: 'owner' }]),
    ).resolves.toBeUndefined();
  });

  it('allowWrites: owner and read-write write again, read-only still does not', async () => {
    // Restricted here too: a mutation run (npm run mutate) runs a test without the ones before.
    await provider.restrictWrites(infra, db, access);
    await expect((await as('owner')).write('k', 'v3')).rejects.toThrow(REFUSED);
    await provider.allowWrites(infra, db, access);

    await (await as('owner')).write('k', 'v4');
    await (await as('read-write')).write('k', 'v5');
    const reader = await as('read-only');
    await expect(reader.write('k', 'v6')).rejects.toThrow(REFUSED);
    expect(await reader.read('k')).toBe('v5');
    // Owners may create again (PostgreSQL: the table belongs to the owner group once more).
    await (await as('owner')).init();
  });
});

describe('postgresql: size and TRUNCATE', () => {
  let server: EngineServer;
  const provider = new PostgresqlProvider();

  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await provider.close();
    await server?.destroy();
  });

  it('is the size of the tables, not of the catalogs: an empty database measures 0', async () => {
    const infra = targetOf(server);
    await provider.createDatabase(infra, 'sized');
    expect(await provider.usedSize(infra, 'sized')).toBe(0);
    const user = { database: 'sized', user: 'sized_owner', password: generatePassword() };
    await provider.createUser(infra, { ...user, privileges: 'owner' });
    const session = await postgresLogin(server.host, server.port)(
      'sized',
      user.user,
      user.password,
    );
    try {
      await session.init();
      await session.fill(512 * 1024);
    } finally {
      await session.close();
    }
    const size = await provider.usedSize(infra, 'sized');
    expect(size).toBeGreaterThan(256 * 1024);
    expect(size).toBeLessThan(4 * 1024 * 1024);
  });

  it('with a non-superuser admin, measures a database at its connection limit from the maintenance database', async () => {
    const infra = targetOf(server);
    await provider.createDatabase(infra, 'crowded', { maxConnections: 1 });
    const owner = { database: 'crowded', user: 'crowded_owner', password: generatePassword() };
    await provider.createUser(infra, { ...owner, privileges: 'owner' });
    // An admin the CONNECTION LIMIT applies to (superusers are exempt from it).
    const admin = { user: 'size_admin', password: randomBytes(12).toString('hex') };
    const superuser = {
      database: 'postgres',
      user: infra.adminUser,
      password: infra.adminPassword,
    };
    await runIn(
      superuser,
      `CREATE ROLE ${admin.user} LOGIN NOSUPERUSER PASSWORD '${admin.password}';
       GRANT pg_read_all_stats TO ${admin.user}; GRANT CONNECT ON DATABASE crowded TO ${admin.user}`,
    );
    const tenant = await postgresLogin(server.host, server.port)(
      'crowded',
      owner.user,
      owner.password,
    );
    const limited = new PostgresqlProvider();
    try {
      await tenant.init();
      await tenant.fill(512 * 1024);
      // The tenant holds the only connection: the admin cannot get in to measure.
      const size = await limited.usedSize(
        { ...infra, adminUser: admin.user, adminPassword: admin.password },
        'crowded',
      );
      expect(size).toBeGreaterThan(256 * 1024);
      expect(size).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await tenant.close();
      await limited.close();
    }
  });

  /** Runs `sql` as `who`, in its database, on a connection of its own. */
  const runIn = async (who: { database: string; user: string; password: string }, sql: string) => {
    const client = new Client({
      host: server.host,
      port: server.port,
      user: who.user,
      password: who.password,
      database: who.database,
    });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  it('tables and schemas an owner made as itself (SET ROLE NONE) are blocked too: their ownership goes to the owner group', async () => {
    const infra = targetOf(server);
    await provider.createDatabase(infra, 'mine');
    const owner = { database: 'mine', user: 'mine_owner', password: generatePassword() };
    await provider.createUser(infra, { ...owner, privileges: 'owner' });
    await runIn(
      owner,
      'SET ROLE NONE; CREATE TABLE public.mine (a int); CREATE SCHEMA own; CREATE TABLE own.t (a int)',
    );

    await provider.restrictWrites(infra, 'mine', [{ user: owner.user, privileges: 'owner' }]);

    await expect(runIn(owner, 'SET ROLE NONE; INSERT INTO public.mine VALUES (1)')).rejects.toThrow(
      'permission denied for table mine',
    );
    await expect(runIn(owner, 'SET ROLE NONE; INSERT INTO own.t VALUES (1)')).rejects.toThrow(
      'permission denied for table t',
    );
    await expect(runIn(owner, 'SET ROLE NONE; CREATE TABLE own.more (a int)')).rejects.toThrow(
      'permission denied for schema own',
    );
    await runIn(owner, 'SELECT * FROM public.mine, own.t');
    await runIn(owner, 'DELETE FROM own.t');

    await provider.allowWrites(infra, 'mine', [{ user: owner.user, privileges: 'owner' }]);
    await runIn(owner, 'INSERT INTO public.mine VALUES (1); INSERT INTO own.t VALUES (1)');
  });

  it('while restricted, owners may TRUNCATE (space back at once), read-write credentials only DELETE; nobody makes large objects', async () => {
    const infra = targetOf(server);
    await provider.createDatabase(infra, 'trunc');
    const owner = { database: 'trunc', user: 'trunc_owner', password: generatePassword() };
    const writer = { database: 'trunc', user: 'trunc_rw', password: generatePassword() };
    await provider.createUser(infra, { ...owner, privileges: 'owner' });
    await provider.createUser(infra, { ...writer, privileges: 'read-write' });
    const run = (who: typeof owner, sql: string) => runIn(who, sql);
    await run(owner, "CREATE TABLE kv AS SELECT 'k' AS k");
    await provider.restrictWrites(infra, 'trunc', [
      { user: owner.user, privileges: 'owner' },
      { user: writer.user, privileges: 'read-write' },
    ]);

    await expect(run(writer, 'TRUNCATE kv')).rejects.toThrow('permission denied for table kv');
    await run(writer, 'DELETE FROM kv');
    await run(owner, 'TRUNCATE kv');
    await expect(run(owner, 'CREATE TABLE more (a int)')).rejects.toThrow(
      'permission denied for schema public',
    );
    // Large objects count in the size: none may be created either (the admin is a superuser).
    await expect(run(writer, "SELECT lo_from_bytea(0, 'x')")).rejects.toThrow(
      'permission denied for function lo_from_bytea',
    );
    await expect(run(owner, 'SELECT lo_creat(-1)')).rejects.toThrow(
      'permission denied for function lo_creat',
    );

    await provider.allowWrites(infra, 'trunc', [{ user: owner.user, privileges: 'owner' }]);
    await run(owner, "SELECT lo_from_bytea(0, 'x')");
  });
});
