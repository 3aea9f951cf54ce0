import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmdirSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { EngineUnavailableError, generatePassword } from '@dbaas/core';
import {
  COMMAND_REVIEW,
  CONNECT_TIMEOUT_MS,
  EngineCommandError,
  MongodbProvider,
  MysqlProvider,
  PostgresqlProvider,
  RedisProvider,
  type EngineProvider,
  type InfraTarget,
} from '@dbaas/engines';
import {
  EngineServer,
  freePort,
  targetOf,
  startMariaDb,
  startPostgres,
  startRedis,
} from '../harness';
import {
  Login,
  UserSession,
  mongoLogin,
  mysqlLogin,
  postgresLogin,
  redisLogin,
} from './engine-sessions';

/** What the shared suite needs from one engine. */
interface ContractTarget {
  provider: EngineProvider;
  infra: InfraTarget;
  login: Login;
  /** The harness server, when the suite owns it ("engine down" test). */
  server?: EngineServer;
  /** How an open session of this engine fails once the server has ended it. */
  sessionEnded: RegExp;
  /** The exact endpoint expected for a database. */
  expectedEndpoint(database: string): string;
  teardown(): Promise<void>;
}

/**
 * Resolves when `attempt` rejects with an error matching `expected`, retrying for a while
 * (session kills are asynchronous on some engines). Any other error fails at once: a
 * session refused a command (NOPERM, permission denied) is not a session that was ended.
 */
async function eventuallyRejects(
  attempt: () => Promise<unknown>,
  expected: RegExp,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const error = await attempt().then(
      () => null,
      (e: unknown) => e as Error,
    );
    if (error) {
      expect(error.message).toMatch(expected);
      return;
    }
    if (Date.now() > deadline) throw new Error('expected the operation to fail, it kept working');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The behaviour every EngineProvider must show on a real server, checked by logging in
 * as the created users with the engine's own client library.
 */
export function describeEngineContract(name: string, setup: () => Promise<ContractTarget>): void {
  describe(`${name} engine provider contract`, () => {
    let t: ContractTarget;
    const suffix = randomBytes(3).toString('hex');
    const dbA = `ct_a_${suffix}`;
    const dbB = `ct_b_${suffix}`;
    const owner = `ct_owner_${suffix}`;
    const reader = `ct_ro_${suffix}`;
    const writer = `ct_rw_${suffix}`;
    const ownerB = `ct_owner_b_${suffix}`;
    let ownerPassword = generatePassword();
    const readerPassword = generatePassword();
    const writerPassword = generatePassword();
    const ownerBPassword = generatePassword();
    const sessions: UserSession[] = [];
    const login = async (db: string, user: string, password: string) => {
      const session = await t.login(db, user, password);
      sessions.push(session);
      return session;
    };

    beforeAll(async () => {
      t = await setup();
    });
    afterAll(async () => {
      await Promise.all(sessions.map((s) => s.close()));
      await t?.provider.close();
      await t?.teardown();
    });

    it('ping returns the server version', async () => {
      const { version } = await t.provider.ping(t.infra);
      expect(version).toMatch(/\d+\.\d+/);
    });

    it('creates a database and an owner who can log in and write (each twice: idempotent)', async () => {
      const started = Date.now();
      await t.provider.createDatabase(t.infra, dbA);
      await t.provider.createDatabase(t.infra, dbA);
      await t.provider.createUser(t.infra, {
        database: dbA,
        user: owner,
        password: ownerPassword,
        privileges: 'owner',
      });
      await t.provider.createUser(t.infra, {
        database: dbA,
        user: owner,
        password: ownerPassword,
        privileges: 'owner',
      });
      console.info(
        `${name}: create database + owner user (twice each) took ${Date.now() - started} ms`,
      );

      const session = await login(dbA, owner, ownerPassword);
      await session.init();
      await session.write('greeting', 'hello');
      await expect(session.read('greeting')).resolves.toBe('hello');
      expect(await t.provider.listDatabases(t.infra)).toContain(dbA);
      expect(await t.provider.listUsers(t.infra)).toContain(owner);
    });

    it('databaseExists: true for a database with data, false for a name never made', async () => {
      await expect(t.provider.databaseExists(t.infra, dbA)).resolves.toBe(true);
      await expect(t.provider.databaseExists(t.infra, `never_${suffix}`)).resolves.toBe(false);
    });

    it("userExists: true for a credential's user and for the admin, false for a name never made", async () => {
      await expect(t.provider.userExists(t.infra, owner)).resolves.toBe(true);
      await expect(t.provider.userExists(t.infra, t.infra.adminUser)).resolves.toBe(true);
      await expect(t.provider.userExists(t.infra, `never_${suffix}`)).resolves.toBe(false);
    });

    it('refuses a wrong password', async () => {
      await expect(t.login(dbA, owner, 'wrong-password-123')).rejects.toThrow();
    });

    it('setPassword: the old password stops working, the new one works', async () => {
      const newPassword = generatePassword();
      await t.provider.setPassword(t.infra, { database: dbA, user: owner }, newPassword);
      await t.provider.setPassword(t.infra, { database: dbA, user: owner }, newPassword);
      await expect(t.login(dbA, owner, ownerPassword)).rejects.toThrow();
      ownerPassword = newPassword;
      const session = await login(dbA, owner, ownerPassword);
      await expect(session.read('greeting')).resolves.toBe('hello');
    });

    it('a read-only user can read but not write', async () => {
      await t.provider.createUser(t.infra, {
        database: dbA,
        user: reader,
        password: readerPassword,
        privileges: 'read-only',
      });
      const session = await login(dbA, reader, readerPassword);
      await expect(session.read('greeting')).resolves.toBe('hello');
      await expect(session.write('greeting', 'overwritten')).rejects.toThrow();
      await expect(session.read('greeting')).resolves.toBe('hello');
    });

    it('a read-write user can write, and can be turned read-only by createUser again', async () => {
      await t.provider.createUser(t.infra, {
        database: dbA,
        user: writer,
        password: writerPassword,
        privileges: 'read-write',
      });
      const session = await login(dbA, writer, writerPassword);
      await session.write('from_writer', 'w');
      await expect(session.read('from_writer')).resolves.toBe('w');

      await t.provider.createUser(t.infra, {
        database: dbA,
        user: writer,
        password: writerPassword,
        privileges: 'read-only',
      });
      const again = await login(dbA, writer, writerPassword);
      await expect(again.write('from_writer', 'w2')).rejects.toThrow();
      await expect(again.read('from_writer')).resolves.toBe('w');
    });

    it("a second owner credential shares the first one's tables", async () => {
      const second = `ct_owner2_${suffix}`;
      const password = generatePassword();
      await t.provider.createUser(t.infra, {
        database: dbA,
        user: second,
        password,
        privileges: 'owner',
      });
      const session = await login(dbA, second, password);
      await session.init();
      await session.write('from_second_owner', 'o2');
      await expect(session.read('greeting')).resolves.toBe('hello');
      await t.provider.dropUser(t.infra, { database: dbA, user: second });
      // Data written by a dropped credential stays in the database.
      const first = await login(dbA, owner, ownerPassword);
      await expect(first.read('from_second_owner')).resolves.toBe('o2');
    });

    it('a user of one database cannot read another database', async () => {
      await t.provider.createDatabase(t.infra, dbB);
      await t.provider.createUser(t.infra, {
        database: dbB,
        user: ownerB,
        password: ownerBPassword,
        privileges: 'owner',
      });
      const sessionB = await login(dbB, ownerB, ownerBPassword);
      await sessionB.init();
      await sessionB.write('secret', 'b-only');

      const sessionA = await login(dbA, owner, ownerPassword);
      await expect(sessionA.readOther(dbB, 'secret')).rejects.toThrow();
      await expect(sessionB.readOther(dbA, 'greeting')).rejects.toThrow();
    });

    it('revokeAccess ends open sessions and refuses new logins; restoreAccess brings access back', async () => {
      const open = await login(dbA, owner, ownerPassword);
      await open.ping();

      await t.provider.revokeAccess(t.infra, { database: dbA, user: owner });
      await t.provider.revokeAccess(t.infra, { database: dbA, user: owner });
      await eventuallyRejects(() => open.ping(), t.sessionEnded);
      await expect(t.login(dbA, owner, ownerPassword)).rejects.toThrow();
      expect(await t.provider.listUsers(t.infra)).toContain(owner); // no data or user dropped

      const restored = generatePassword();
      const spec = { database: dbA, user: owner, password: restored, privileges: 'owner' as const };
      await t.provider.restoreAccess(t.infra, spec);
      await t.provider.restoreAccess(t.infra, spec);
      ownerPassword = restored;
      const session = await login(dbA, owner, ownerPassword);
      await expect(session.read('greeting')).resolves.toBe('hello');
      await session.write('after_restore', 'yes');
    });

    it('usedSize grows after writing data', async () => {
      const before = await t.provider.usedSize(t.infra, dbA);
      expect(before).toBeGreaterThanOrEqual(0);
      const session = await login(dbA, owner, ownerPassword);
      await session.fill(2 * 1024 * 1024);
      const after = await t.provider.usedSize(t.infra, dbA);
      expect(after).toBeGreaterThan(before + 512 * 1024);
    });

    it('endpoint has user and password placeholders', () => {
      expect(t.provider.endpoint(t.infra.addresses, dbA)).toBe(t.expectedEndpoint(dbA));
    });

    it('rejects invalid names before reaching the server', async () => {
      await expect(t.provider.createDatabase(t.infra, 'Bad-Name')).rejects.toThrow(
        /invalid database name/,
      );
      await expect(
        t.provider.createUser(t.infra, {
          database: dbA,
          user: 'x'.repeat(t.provider.userNameMaxLength + 1),
          password: 'p',
          privileges: 'owner',
        }),
      ).rejects.toThrow(/invalid user name/);
    });

    it('dropUser and dropDatabase leave nothing behind, and can run twice', async () => {
      const open = await login(dbA, reader, readerPassword);
      await open.ping();
      const started = Date.now();
      for (const user of [owner, reader, writer]) {
        await t.provider.dropUser(t.infra, { database: dbA, user });
        await t.provider.dropUser(t.infra, { database: dbA, user });
      }
      await t.provider.dropDatabase(t.infra, dbA);
      await t.provider.dropDatabase(t.infra, dbA);
      console.info(`${name}: drop 3 users + database (twice each) took ${Date.now() - started} ms`);
      await eventuallyRejects(() => open.ping(), t.sessionEnded);
      await expect(t.login(dbA, reader, readerPassword)).rejects.toThrow();

      await t.provider.dropUser(t.infra, { database: dbB, user: ownerB });
      await t.provider.dropDatabase(t.infra, dbB);
      // Never existed: still a no-op.
      await t.provider.dropUser(t.infra, { database: dbB, user: `never_${suffix}` });
      await t.provider.dropDatabase(t.infra, `never_${suffix}`);

      const users = await t.provider.listUsers(t.infra);
      const databases = await t.provider.listDatabases(t.infra);
      for (const user of [owner, reader, writer, ownerB]) expect(users).not.toContain(user);
      for (const db of [dbA, dbB]) expect(databases).not.toContain(db);
      for (const db of [dbA, dbB]) {
        await expect(t.provider.databaseExists(t.infra, db)).resolves.toBe(false);
      }
      for (const user of [owner, reader, writer, ownerB]) {
        await expect(t.provider.userExists(t.infra, user)).resolves.toBe(false);
      }
    });

    it('an unreachable address gives EngineUnavailableError within seconds, without the password', async () => {
      const closedPort = await freePort();
      // Accepts connections and never says a word: only the driver's timeouts end the wait.
      const silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const silentPort = (silent.address() as AddressInfo).port;
      const secret = `secret-${suffix}-admin`;
      try {
        // Loopback only: tests send no traffic to any address off this machine.
        for (const [i, address] of [
          `127.0.0.1:${closedPort}`,
          `127.0.0.1:${silentPort}`,
        ].entries()) {
          const infra: InfraTarget = {
            id: 9000 + i,
            addresses: [address],
            adminUser: 'admin',
            adminPassword: secret,
          };
          const started = Date.now();
          const error = await t.provider.ping(infra).catch((e: unknown) => e);
          const took = Date.now() - started;
          console.info(`${name}: ${address} refused in ${took} ms`);
          expect(error).toBeInstanceOf(EngineUnavailableError);
          expect((error as Error).message).toContain(address);
          expect((error as Error).message).not.toContain(secret);
          // At most two connect timeouts (one retry of a lost connection), with room for a
          // loaded machine: "not hung", not "fast".
          expect(took).toBeLessThan(2 * CONNECT_TIMEOUT_MS + 2_000);
        }
      } finally {
        silent.close();
      }
    });

    it('a wrong admin password gives EngineUnavailableError, without the password', async () => {
      const secret = `wrong-${suffix}-password`;
      const infra = { ...t.infra, id: t.infra.id + 1000, adminPassword: secret };
      const error = await t.provider.ping(infra).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect((error as Error).message).not.toContain(secret);
    });

    it('reports a stopped server as unavailable and recovers when it is back', async () => {
      if (!t.server) {
        console.warn(`${name}: server not owned by the suite, stop/start check skipped`);
        return;
      }
      const db = `ct_restart_${suffix}`;
      const user = `ct_restart_${suffix}`;
      const password = generatePassword();
      await t.provider.createDatabase(t.infra, db);
      await t.provider.createUser(t.infra, { database: db, user, password, privileges: 'owner' });
      await t.server.stop();
      try {
        await expect(t.provider.ping(t.infra)).rejects.toBeInstanceOf(EngineUnavailableError);
        await expect(t.provider.listDatabases(t.infra)).rejects.toBeInstanceOf(
          EngineUnavailableError,
        );
        await expect(
          t.provider.createUser(t.infra, { database: db, user, password, privileges: 'owner' }),
        ).rejects.toBeInstanceOf(EngineUnavailableError);
      } finally {
        await t.server.start();
      }
      await expect(t.provider.ping(t.infra)).resolves.toEqual({ version: expect.any(String) });
      // Credentials survive an engine restart (Redis: the provider persists its ACL changes).
      const session = await login(db, user, password);
      await session.ping();
      await session.close();
      await t.provider.dropUser(t.infra, { database: db, user });
      await t.provider.dropDatabase(t.infra, db);
    });
  });
}

describeEngineContract('postgresql', async () => {
  const server = await startPostgres();
  return {
    provider: new PostgresqlProvider(),
    infra: {
      id: 1,
      addresses: [server.address],
      adminUser: server.adminUser,
      adminPassword: server.adminPassword,
    },
    login: postgresLogin(server.host, server.port),
    server,
    // pg_terminate_backend: the first query sees the termination, later ones the dead client.
    sessionEnded:
      /terminating connection due to administrator command|Connection terminated|not queryable/,
    expectedEndpoint: (db) => `postgresql://<user>:<password>@${server.address}/${db}`,
    teardown: () => server.destroy(),
  };
});

describeEngineContract('mysql (MariaDB)', async () => {
  const server = await startMariaDb();
  return {
    provider: new MysqlProvider(),
    infra: {
      id: 2,
      addresses: [server.address],
      adminUser: server.adminUser,
      adminPassword: server.adminPassword,
    },
    login: mysqlLogin(server.host, server.port),
    server,
    // KILL CONNECTION: "Connection was killed", then the closed socket.
    sessionEnded: /Connection was killed|Connection lost|connection is in closed state/,
    expectedEndpoint: (db) => `mysql://<user>:<password>@${server.address}/${db}`,
    teardown: () => server.destroy(),
  };
});

/** Redis-only: ACL key patterns do not hide key names from SCAN & co, so those commands are denied. */
describe('redis isolation beyond key patterns', () => {
  let server: EngineServer;
  const provider = new RedisProvider();
  afterAll(async () => {
    await provider.close();
    await server?.destroy();
  });

  it('a user cannot list, count or flush other prefixes, nor leave database 0', async () => {
    server = await startRedis();
    const infra = targetOf(server, 31);
    for (const privileges of ['owner', 'read-only'] as const) {
      await provider.createUser(infra, {
        database: 'iso',
        user: `iso_${privileges.replace('-', '_')}`,
        password: 'pw-iso-123456',
        privileges,
      });
    }
    const client = new Redis({
      host: server.host,
      port: server.port,
      username: 'iso_owner',
      password: 'pw-iso-123456',
      enableReadyCheck: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const reader = new Redis({
      host: server.host,
      port: server.port,
      username: 'iso_read_only',
      password: 'pw-iso-123456',
      enableReadyCheck: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    try {
      await client.connect();
      await reader.connect();
      await client.set('iso:k', 'v');
      for (const command of [
        ['SCAN', '0'],
        ['KEYS', '*'],
        ['RANDOMKEY'],
        ['DBSIZE'],
        ['FLUSHALL'],
        ['FLUSHDB'],
        ['SELECT', '1'],
        ['PUBSUB', 'CHANNELS'],
        ['INFO'],
        ['CONFIG', 'GET', '*'],
        ['ACL', 'LIST'],
      ]) {
        await expect(client.call(command[0], ...command.slice(1))).rejects.toThrow(/NOPERM/);
        await expect(reader.call(command[0], ...command.slice(1))).rejects.toThrow(/NOPERM/);
      }
      await expect(client.call('MOVE', 'iso:k', '1')).rejects.toThrow(/NOPERM/);
      await expect(client.publish('other:chan', 'x')).rejects.toThrow(/NOPERM/);
      await expect(client.publish('iso:chan', 'x')).resolves.toBe(0);
      await expect(reader.get('iso:k')).resolves.toBe('v');
      await expect(reader.ping()).resolves.toBe('PONG');
      await expect(reader.multi().get('iso:k').exec()).resolves.toEqual([[null, 'v']]);
    } finally {
      client.disconnect();
      reader.disconnect();
    }
  });
});

/** Redis-only: a prefix exists by its keys, whoever wrote them, not only by its users. */
describe('redis databaseExists', () => {
  let server: EngineServer;
  let admin: Redis;
  const provider = new RedisProvider();
  afterAll(async () => {
    admin?.disconnect();
    await provider.close();
    await server?.destroy();
  });

  it('sees a prefix with keys and no user, or a user and no keys; never a mere look-alike', async () => {
    server = await startRedis();
    const infra = targetOf(server, 33);
    admin = new Redis(server.url, { lazyConnect: true });
    await admin.connect();
    // Enough other keys that the prefix's key is not in the first SCAN batch.
    for (let i = 0; i < 30; i++) {
      const pipeline = admin.pipeline();
      for (let j = 0; j < 1000; j++) pipeline.set(`other:${i}:${j}`, 'x');
      await pipeline.exec();
    }
    await expect(provider.databaseExists(infra, 'orphan')).resolves.toBe(false);
    await admin.set('orphan:k', 'written by someone else');
    await admin.set('orphans:k', 'a look-alike');
    await expect(provider.databaseExists(infra, 'orphan')).resolves.toBe(true);
    await expect(provider.databaseExists(infra, 'orphan_')).resolves.toBe(false);
    await admin.del('orphan:k');
    await expect(provider.databaseExists(infra, 'orphan')).resolves.toBe(false);
    await provider.createUser(infra, {
      database: 'orphan',
      user: 'u_orphan',
      password: generatePassword(),
      privileges: 'read-only',
    });
    await expect(provider.databaseExists(infra, 'orphan')).resolves.toBe(true);
  });
});

/**
 * The review in redis-acl.ts against the server's own command table: every command a tenant
 * may run without naming a key must be reviewed there, and every one it denies must be
 * refused to all three privilege levels. Checked with ACL DRYRUN (nothing runs).
 */
describe('redis command table review', () => {
  let server: EngineServer;
  let admin: Redis;
  const provider = new RedisProvider();
  afterAll(async () => {
    admin?.disconnect();
    await provider.close();
    await server?.destroy();
  });

  it('every keyless command a tenant may run is reviewed, and every denied one is refused to all', async () => {
    server = await startRedis();
    const infra = targetOf(server, 32);
    const users = ['owner', 'read-write', 'read-only'] as const;
    for (const privileges of users) {
      await provider.createUser(infra, {
        database: 'audit',
        user: `audit_${privileges.replace('-', '_')}`,
        password: generatePassword(),
        privileges,
      });
    }
    admin = new Redis({
      host: server.host,
      port: server.port,
      username: server.adminUser,
      password: server.adminPassword,
      lazyConnect: true,
    });
    await admin.connect();
    // COMMAND INFO rows: [name, arity, flags, first, last, step, categories, tips, key specs, subcommands].
    type Row = [
      string,
      number,
      string[],
      number,
      number,
      number,
      string[],
      unknown[],
      unknown[],
      Row[],
    ];
    const rows = (await admin.call('COMMAND', 'INFO')) as Row[];
    const commands = rows.flatMap((row) => (row[9]?.length ? row[9] : [row]));
    expect(commands.length).toBeGreaterThan(300);
    const may = async (privileges: (typeof users)[number], [name, arity]: Row) => {
      // Arguments enough for the arity, all in the user's own prefix (keys and channels).
      const args = name.split('|');
      while (args.length < Math.abs(arity)) args.push('audit:*');
      const user = `audit_${privileges.replace('-', '_')}`;
      return String(await admin.call('ACL', 'DRYRUN', user, ...args)) === 'OK';
    };

    const unreviewed: string[] = [];
    const wrong: string[] = [];
    for (const command of commands) {
      const [name, , , , , , , , keySpecs] = command;
      if (name.endsWith('|help')) continue; // usage text
      const review = COMMAND_REVIEW[name] ?? COMMAND_REVIEW[name.split('|')[0]];
      const allowed = await Promise.all(users.map((privileges) => may(privileges, command)));
      if (review?.[0] === 'deny' && allowed.some(Boolean)) wrong.push(`${name} is allowed`);
      if (review?.[0] === 'allow' && !allowed[0]) wrong.push(`${name} is refused to the owner`);
      if (!review && keySpecs.length === 0 && allowed.some(Boolean)) unreviewed.push(name);
    }
    expect({ unreviewed, wrong }).toEqual({ unreviewed: [], wrong: [] });
    // And the review names real commands.
    const known = new Set(commands.map(([name]) => name).concat(rows.map(([name]) => name)));
    expect(Object.keys(COMMAND_REVIEW).filter((name) => !known.has(name))).toEqual([]);
  });
});

/**
 * Redis-only: what the shared contract leaves unchecked in RedisProvider, found by mutating
 * it against these suites (`MUTATE_PROVIDER=redis npm run mutate`; docs/mutation-survivors.md).
 */
describe('redis provider beyond the contract', () => {
  let server: EngineServer;
  let infra: InfraTarget;
  let admin: Redis;
  const provider = new RedisProvider();
  const clients: Redis[] = [];
  const asUser = async (user: string, password: string) => {
    const client = new Redis({
      host: server.host,
      port: server.port,
      username: user,
      password,
      lazyConnect: true,
      enableReadyCheck: false,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    await client.ping();
    return client;
  };
  /** Makes `user` the owner of `database`, with a new password (returned). */
  const createOwner = async (database: string, user: string) => {
    const password = generatePassword();
    await provider.createUser(infra, { database, user, password, privileges: 'owner' });
    return password;
  };
  /** An ACL user of the server (ACL GETUSER: null when there is none), and its flags. */
  const aclUser = (name: string) => admin.call('ACL', 'GETUSER', name);
  const aclFlagsOf = (reply: unknown) => {
    const fields = reply as unknown[];
    return fields[fields.indexOf('flags') + 1] as string[];
  };
  /** Sets `count` small string keys of the prefix; their summed MEMORY USAGE. */
  const fill = async (prefix: string, count: number): Promise<number> => {
    let total = 0;
    for (let start = 0; start < count; start += 1000) {
      const keys = Array.from(
        { length: Math.min(1000, count - start) },
        (_, i) => `${prefix}:${start + i}`,
      );
      await admin.mset(...keys.flatMap((key) => [key, 'v']));
      const usage = admin.pipeline();
      for (const key of keys) usage.call('MEMORY', 'USAGE', key);
      for (const [, bytes] of (await usage.exec()) ?? []) total += Number(bytes);
    }
    return total;
  };

  beforeAll(async () => {
    server = await startRedis();
    infra = targetOf(server, 34);
    admin = new Redis({
      host: server.host,
      port: server.port,
      username: server.adminUser,
      password: server.adminPassword,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    clients.forEach((client) => client.disconnect());
    admin?.disconnect();
    await provider.close();
    await server?.destroy();
  });

  it('keeps one admin connection per infra, named dbaas, also for calls made at once', async () => {
    const named = async () =>
      (String(await admin.call('CLIENT', 'LIST')).match(/ name=dbaas /g) ?? []).length;
    const received = async () =>
      Number(
        /total_connections_received:(\d+)/.exec(String(await admin.call('INFO', 'stats')))?.[1],
      );
    const fresh = new RedisProvider();
    try {
      const [namedBefore, receivedBefore] = [await named(), await received()];
      await Promise.all([fresh.ping(infra), fresh.listUsers(infra), fresh.listDatabases(infra)]);
      await fresh.userExists(infra, 'nobody');
      await fresh.ping(infra);
      expect(await received()).toBe(receivedBefore + 1);
      expect(await named()).toBe(namedBefore + 1);
    } finally {
      await fresh.close();
    }
  });

  it('an infra edited (another admin) gets a new admin connection, and the old one is closed', async () => {
    for (const user of ['edit_a', 'edit_b'])
      await admin.call('ACL', 'SETUSER', user, 'on', `>pw-${user}-1`, '~*', '&*', '+@all');
    const as = (user: string) => ({
      ...infra,
      id: 42,
      adminUser: user,
      adminPassword: `pw-${user}-1`,
    });
    const connectionsOf = async (user: string) =>
      String(await admin.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=dbaas `) && line.includes(` user=${user} `)).length;
    const fresh = new RedisProvider();
    try {
      await fresh.ping(as('edit_a'));
      expect(await connectionsOf('edit_a')).toBe(1);
      await fresh.ping(as('edit_b'));
      expect(await connectionsOf('edit_b')).toBe(1);
      // The old one is closed in the background (QUIT): wait for it, at most 3 s.
      for (let i = 0; i < 30 && (await connectionsOf('edit_a')) > 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await connectionsOf('edit_a')).toBe(0);
    } finally {
      await fresh.close();
      await admin.call('ACL', 'DELUSER', 'edit_a', 'edit_b');
    }
  });

  it('a prefix with keys and no user exists but is not listed: the provider says it lists only some', async () => {
    await admin.set('unlisted:k', 'v');
    await expect(provider.databaseExists(infra, 'unlisted')).resolves.toBe(true);
    expect(await provider.listDatabases(infra)).not.toContain('unlisted');
    expect(provider.listsEveryDatabase).toBe(false);
  });

  it('refuses bad names and the reserved users before reaching the server', async () => {
    // Nothing listens there: a name that got as far as the server would fail as unavailable.
    const nowhere = { ...infra, id: 35, addresses: [`127.0.0.1:${await freePort()}`] };
    const ref = { database: 'Bad-Name', user: 'someone' };
    const spec = { ...ref, password: 'pw-123456', privileges: 'owner' as const };
    for (const call of [
      () => provider.createDatabase(nowhere, 'Bad-Name'),
      () => provider.dropDatabase(nowhere, 'Bad-Name'),
      () => provider.createUser(nowhere, spec),
      () => provider.restrictWrites(nowhere, 'Bad-Name', []),
      () => provider.allowWrites(nowhere, 'Bad-Name', []),
      () => provider.dropUser(nowhere, ref),
      () => provider.setPassword(nowhere, ref, 'pw-123456'),
      () => provider.revokeAccess(nowhere, ref),
      () => provider.usedSize(nowhere, 'Bad-Name'),
      () => provider.databaseExists(nowhere, 'Bad-Name'),
    ])
      await expect(call()).rejects.toThrow(/^redis: invalid database name "Bad-Name"/);
    await expect(provider.userExists(nowhere, 'Bad-User')).rejects.toThrow(
      /^redis: invalid user name "Bad-User"/,
    );
    for (const user of ['default', infra.adminUser]) {
      const mine = { database: 'names', user };
      for (const call of [
        () => provider.createUser(nowhere, { ...mine, password: 'pw-123456', privileges: 'owner' }),
        () => provider.dropUser(nowhere, mine),
        () => provider.setPassword(nowhere, mine, 'pw-123456'),
        () => provider.revokeAccess(nowhere, mine),
        // Checked once connected (per user, before any ACL command): the real server.
        () => provider.restrictWrites(infra, 'names', [{ user, privileges: 'owner' }]),
      ])
        await expect(call()).rejects.toThrow(/is reserved|is the infra admin/);
    }
  });

  it('createDatabase asks the server: unavailable when nothing answers', async () => {
    const nowhere = { ...infra, id: 36, addresses: [`127.0.0.1:${await freePort()}`] };
    await expect(provider.createDatabase(nowhere, 'anywhere')).rejects.toBeInstanceOf(
      EngineUnavailableError,
    );
  });

  it('a missing user: setPassword fails, revokeAccess and dropUser do nothing, and none creates it', async () => {
    const ghost = { database: 'ghosts', user: 'ghost' };
    await expect(provider.setPassword(infra, ghost, 'pw-123456')).rejects.toThrow(
      /^redis: .*user ghost does not exist/,
    );
    await expect(aclUser('ghost')).resolves.toBeNull();
    await provider.revokeAccess(infra, ghost);
    await expect(aclUser('ghost')).resolves.toBeNull();
    await provider.allowWrites(infra, 'ghosts', [{ user: 'ghost', privileges: 'owner' }]);
    await expect(aclUser('ghost')).resolves.toBeNull();
    await provider.dropUser(infra, ghost);
    await expect(aclUser('ghost')).resolves.toBeNull();
  });

  it('revokeAccess turns the user off and replaces its password: each alone refuses a login', async () => {
    const password = await createOwner('rv', 'rv_owner');
    await provider.revokeAccess(infra, { database: 'rv', user: 'rv_owner' });
    expect(aclFlagsOf(await aclUser('rv_owner'))).toContain('off');
    await admin.call('ACL', 'SETUSER', 'rv_owner', 'on'); // as if turned on again by hand
    // The AUTH is refused (WRONGPASS), and ioredis closes the connection.
    await expect(asUser('rv_owner', password)).rejects.toThrow(/WRONGPASS|Connection is closed/);
  });

  it('allowWrites gives a user exactly the rules of the privileges named, nothing kept from before', async () => {
    const password = await createOwner('exact', 'exact_user');
    await provider.allowWrites(infra, 'exact', [{ user: 'exact_user', privileges: 'read-only' }]);
    const session = await asUser('exact_user', password);
    await expect(session.set('exact:k', 'v')).rejects.toThrow(/NOPERM/);
    await expect(session.get('exact:k')).resolves.toBeNull();
  });

  it('dropDatabase removes every key of the prefix (several SCAN batches), ends its users’ sessions, keeps the users', async () => {
    const password = await createOwner('dropped', 'dropped_owner');
    const session = await asUser('dropped_owner', password);
    await fill('dropped', 2500);
    await admin.set('dropped_x:k', 'a look-alike');
    await provider.dropDatabase(infra, 'dropped');
    await eventuallyRejects(() => session.ping(), /Connection is closed|Stream isn't writeable/);
    expect(await admin.keys('dropped:*')).toEqual([]);
    await expect(admin.get('dropped_x:k')).resolves.toBe('a look-alike');
    await expect(aclUser('dropped_owner')).resolves.not.toBeNull();
  });

  it('usedSize is exact below 10,000 keys (several SCAN batches), a lower bound above', async () => {
    // 2,500 keys: several SCAN batches of 1,000, and far from the 2 s bound on a loaded machine.
    const small = await fill('sized', 2500);
    await expect(provider.usedSize(infra, 'sized')).resolves.toBe(small);
    const large = await fill('huge', 15_000);
    const measured = await provider.usedSize(infra, 'huge');
    expect(measured).toBeGreaterThan(0);
    expect(measured).toBeLessThan(large);
  });

  it('listUsers and listDatabases: sorted, without default, the admin or names dbaas does not make', async () => {
    for (const [database, user] of [
      ['lz', 'lz_owner'],
      ['la', 'la_owner'],
    ])
      await provider.createUser(infra, {
        database,
        user,
        password: generatePassword(),
        privileges: 'owner',
      });
    await admin.call('ACL', 'SETUSER', 'Not-Ours', 'on', 'nopass', '~notours:*');
    // An admin and a default user confined to a prefix of their own: neither is a database.
    await admin.call('ACL', 'SETUSER', 'default', 'resetkeys', '~ldefault:*');
    await admin.call('ACL', 'SETUSER', 'ladmin', 'on', '>pw-ladmin-123', '~ladmin:*', '+@all');
    const ladmin = { ...infra, id: 37, adminUser: 'ladmin', adminPassword: 'pw-ladmin-123' };
    try {
      const users = await provider.listUsers(ladmin);
      expect(users).toEqual(expect.arrayContaining(['la_owner', 'lz_owner']));
      expect(users).toEqual([...users].sort());
      for (const other of ['default', 'ladmin', 'Not-Ours']) expect(users).not.toContain(other);
      const databases = await provider.listDatabases(ladmin);
      expect(databases).toEqual(expect.arrayContaining(['la', 'lz', 'notours']));
      expect(databases).toEqual([...databases].sort());
      for (const other of ['ldefault', 'ladmin']) expect(databases).not.toContain(other);
    } finally {
      await admin.call('ACL', 'SETUSER', 'default', 'resetkeys', '~*');
      await admin.call('ACL', 'DELUSER', 'Not-Ours', 'ladmin');
    }
  });

  it('confines a new user to its channels even where the server grants all channels by default', async () => {
    const password = generatePassword();
    await admin.call('CONFIG', 'SET', 'acl-pubsub-default', 'allchannels');
    try {
      await provider.createUser(infra, {
        database: 'chan',
        user: 'chan_owner',
        password,
        privileges: 'owner',
      });
    } finally {
      await admin.call('CONFIG', 'SET', 'acl-pubsub-default', 'resetchannels');
    }
    const client = await asUser('chan_owner', password);
    await expect(client.publish('other:chan', 'x')).rejects.toThrow(/NOPERM/);
    await expect(client.publish('chan:chan', 'x')).resolves.toBe(0);
  });

  it('revokeAccess fails when the admin may not end the sessions (they would stay open)', async () => {
    const password = await createOwner('kept', 'kept_owner');
    const session = await asUser('kept_owner', password);
    await admin.call(
      'ACL',
      'SETUSER',
      'nokill',
      'on',
      '>pw-nokill-12',
      '~*',
      '&*',
      '+@all',
      '-client|kill',
    );
    const nokill = { ...infra, id: 40, adminUser: 'nokill', adminPassword: 'pw-nokill-12' };
    try {
      const refused = provider.revokeAccess(nokill, { database: 'kept', user: 'kept_owner' });
      // A refused command, not an engine that cannot be reached.
      await expect(refused).rejects.toBeInstanceOf(EngineCommandError);
      await expect(refused).rejects.toThrow(/NOPERM/);
      await expect(session.ping()).resolves.toBe('PONG');
    } finally {
      await admin.call('ACL', 'DELUSER', 'nokill');
    }
  });

  it('with an ACL file, users are saved there (ACL SAVE) and survive a restart', async () => {
    const saved = await startRedis({ aclFile: true });
    const own = new RedisProvider();
    try {
      const target = targetOf(saved, 41);
      const password = generatePassword();
      const spec = {
        database: 'saved',
        user: 'saved_owner',
        password,
        privileges: 'owner' as const,
      };
      await own.createUser(target, spec);
      await expect(own.securityWarnings(target)).resolves.toEqual([]);
      await saved.stop();
      await saved.start();
      const session = await redisLogin(saved.host, saved.port)('saved', 'saved_owner', password);
      await session.ping();
      await session.close();
    } finally {
      await own.close();
      await saved.destroy();
    }
  });

  it('ACL changes that cannot be saved are logged, not fatal', async () => {
    // CONFIG REWRITE (the fallback of ACL SAVE, no aclfile here) fails once the config
    // file's path is a folder; root could still write a read-only file.
    const info = String(await admin.call('INFO', 'server'));
    const configFile = /^config_file:(.*)$/m.exec(info)?.[1]?.trim() ?? '';
    expect(configFile).not.toBe('');
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    renameSync(configFile, `${configFile}.kept`);
    mkdirSync(configFile);
    try {
      const password = await createOwner('unsaved', 'unsaved_owner');
      await asUser('unsaved_owner', password);
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/^ACL changes are not persisted \(.+; .+\)$/),
      );
    } finally {
      warn.mockRestore();
      rmdirSync(configFile);
      renameSync(`${configFile}.kept`, configFile);
    }
  });

  it('securityWarnings skips a check the admin may not run, and still makes the others', async () => {
    await admin.call('ACL', 'SETUSER', 'default', 'on', 'nopass');
    await admin.call(
      'ACL',
      'SETUSER',
      'noconfig',
      'on',
      '>pw-noconfig-1',
      '~*',
      '&*',
      '+@all',
      '-config',
    );
    await admin.call(
      'ACL',
      'SETUSER',
      'noacl',
      'on',
      '>pw-noacl-12',
      '~*',
      '&*',
      '+@all',
      '-acl|getuser',
      '-info',
    );
    const as = (user: string, password: string, id: number) => ({
      ...infra,
      id,
      adminUser: user,
      adminPassword: password,
    });
    try {
      await expect(provider.securityWarnings(as('noconfig', 'pw-noconfig-1', 38))).resolves.toEqual(
        [expect.stringMatching(/default user is enabled without a password/)],
      );
      await expect(provider.securityWarnings(as('noacl', 'pw-noacl-12', 39))).resolves.toEqual([]);
      // Enabled with a password: nothing to say.
      await admin.call('ACL', 'SETUSER', 'default', 'resetpass', '>pw-default-12');
      await expect(provider.securityWarnings(as('noconfig', 'pw-noconfig-1', 38))).resolves.toEqual(
        [],
      );
    } finally {
      await admin.call('ACL', 'SETUSER', 'default', 'off', 'resetpass', 'nopass');
      await admin.call('ACL', 'DELUSER', 'noconfig', 'noacl');
    }
  });
});

describeEngineContract('redis', async () => {
  const server = await startRedis();
  return {
    provider: new RedisProvider(),
    infra: {
      id: 3,
      addresses: [server.address],
      adminUser: server.adminUser,
      adminPassword: server.adminPassword,
    },
    login: redisLogin(server.host, server.port),
    server,
    // CLIENT KILL USER closes the socket; ioredis does not reconnect (retryStrategy null).
    sessionEnded: /Connection is closed|Stream isn't writeable/,
    expectedEndpoint: () => `redis://<user>:<password>@${server.address}/0`,
    teardown: () => server.destroy(),
  };
});

/**
 * No MongoDB server can be installed on these machines (none in Debian; the npm
 * in-memory servers download one at run time). The MongoDB contract runs when
 * DBAAS_TEST_MONGODB_URL (`mongodb://admin:pw@host:port[,host2:port2]/`, an admin in
 * the `admin` database) points at a real server; mongodb-commands.spec.ts covers the
 * commands without one.
 */
const mongoUrl = process.env.DBAAS_TEST_MONGODB_URL;
if (mongoUrl) {
  describeEngineContract('mongodb', async () => {
    const url = new URL(mongoUrl.replace(/^mongodb:/, 'http:'));
    const hosts = mongoUrl.replace(/^mongodb:\/\/([^@]*@)?/, '').split(/[/?]/)[0];
    return {
      provider: new MongodbProvider(),
      infra: {
        id: 4,
        addresses: hosts.split(','),
        adminUser: decodeURIComponent(url.username),
        adminPassword: decodeURIComponent(url.password),
      },
      login: mongoLogin(hosts),
      // MongoDB cannot close another user's connections: they lose every role instead
      // (see MongodbProvider.revokeAccess). Unverified here: no MongoDB server.
      sessionEnded: /not authorized|Unauthorized|UserNotFound/,
      expectedEndpoint: (db) => `mongodb://<user>:<password>@${hosts}/${db}`,
      teardown: async () => undefined,
    };
  });
} else {
  // A skip, not a passing test: there is nothing to assert without a server. The reason is printed.
  console.warn(
    'MongoDB contract suite skipped: DBAAS_TEST_MONGODB_URL is not set (no MongoDB server can be installed on ' +
      'these machines). Set DBAAS_TEST_MONGODB_URL=mongodb://admin:pw@host:port/ to run it against a real ' +
      'server; test/engines/mongodb-commands.spec.ts checks the commands meanwhile.',
  );
  describe.skip('mongodb engine provider contract (DBAAS_TEST_MONGODB_URL not set)', () => {
    it('runs the shared contract against a real MongoDB server', () => undefined);
  });
}
