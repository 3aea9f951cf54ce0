import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Connection, createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { generatePassword } from '@dbaas/core';
import {
  COMMAND_RULES,
  MysqlProvider,
  PostgresqlProvider,
  RedisProvider,
  type InfraTarget,
  type Privileges,
} from '@dbaas/engines';
import { EngineServer, startMariaDb, targetOf, startPostgres, startRedis } from '../harness';

/**
 * What a credential may NOT do, on the real servers: each refusal is asserted by its
 * specific error (SQLSTATE, MariaDB error number, Redis NOPERM), so a statement that fails
 * for another reason (a typo, a missing table) does not count as a refusal.
 */

const suffix = randomBytes(3).toString('hex');
const PRIVILEGES: Privileges[] = ['owner', 'read-write', 'read-only'];

describe('postgresql privileges', () => {
  let server: EngineServer;
  let infra: InfraTarget;
  const provider = new PostgresqlProvider();
  const clients: Client[] = [];
  const db = `pv_pg_${suffix}`;
  const other = `pv_pg_other_${suffix}`;
  const owner = { user: `pv_pg_owner_${suffix}`, password: generatePassword() };
  const writer = { user: `pv_pg_rw_${suffix}`, password: generatePassword() };

  const connect = async (database: string, login: { user: string; password: string }) => {
    const client = new Client({
      host: server.host,
      port: server.port,
      database,
      ...login,
      connectionTimeoutMillis: 3000,
    });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    server = await startPostgres();
    infra = targetOf(server, 41);
    for (const database of [db, other]) await provider.createDatabase(infra, database);
    await provider.createUser(infra, { database: db, ...owner, privileges: 'owner' });
    await provider.createUser(infra, { database: db, ...writer, privileges: 'read-write' });
    const ownerSession = await connect(db, owner);
    await ownerSession.query('CREATE TABLE kv (k text PRIMARY KEY, v text)');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await provider.close();
    await server?.destroy();
  });

  it('a read-write user writes rows but cannot create, drop or alter in the schema', async () => {
    const session = await connect(db, writer);
    await session.query("INSERT INTO kv VALUES ('k', 'v')");
    await expect(session.query('CREATE TABLE mine (id int)')).rejects.toMatchObject({
      code: '42501',
      message: 'permission denied for schema public',
    });
    await expect(session.query('CREATE SCHEMA mine')).rejects.toMatchObject({
      code: '42501',
      message: `permission denied for database ${db}`,
    });
    await expect(session.query('DROP TABLE kv')).rejects.toMatchObject({
      code: '42501',
      message: 'must be owner of table kv',
    });
    await expect(session.query('ALTER TABLE kv ADD COLUMN extra int')).rejects.toMatchObject({
      code: '42501',
      message: 'must be owner of table kv',
    });
  });

  it('REVOKE ... FROM PUBLIC: a user of one database is refused at connect time by another', async () => {
    for (const login of [owner, writer]) {
      await expect(connect(other, login)).rejects.toMatchObject({
        code: '42501',
        message: `permission denied for database "${other}"`,
        detail: 'User does not have CONNECT privilege.',
      });
    }
  });

  it('a database dropped by hand keeps its name claimed while its group roles (and their members) remain', async () => {
    const dropped = `pv_pg_dropped_${suffix}`;
    const member = { user: `pv_pg_member_${suffix}`, password: generatePassword() };
    await provider.createDatabase(infra, dropped);
    await provider.createUser(infra, { database: dropped, ...member, privileges: 'owner' });
    const admin = new Client({ connectionString: server.url });
    clients.push(admin);
    await admin.connect();
    await admin.query(`DROP DATABASE ${dropped}`);
    // A create of the same name elsewhere would reuse `<db>:owner` with its old members.
    await expect(provider.databaseExists(infra, dropped)).resolves.toBe(true);
    await provider.dropDatabase(infra, dropped);
    await expect(provider.databaseExists(infra, dropped)).resolves.toBe(false);
  });
});

describe('mysql (MariaDB) privileges', () => {
  let server: EngineServer;
  let infra: InfraTarget;
  const provider = new MysqlProvider();
  const connections: Connection[] = [];
  const db = `pv_my_${suffix}`;
  // `_` is a wildcard in grant names: a grant on `..._a_b_...` unescaped would cover `..._axb_...`.
  const underscored = `pv_a_b_${suffix}`;
  const lookalike = `pv_axb_${suffix}`;
  const lookalikeToCreate = `pv_ayb_${suffix}`;
  const owner = { user: `pv_my_owner_${suffix}`, password: generatePassword() };
  const writer = { user: `pv_my_rw_${suffix}`, password: generatePassword() };
  const underscoredOwner = { user: `pv_ab_owner_${suffix}`, password: generatePassword() };

  const connect = async (
    database: string | undefined,
    login: { user: string; password: string },
  ) => {
    const conn = await createConnection({
      host: server.host,
      port: server.port,
      database,
      ...login,
      connectTimeout: 3000,
    });
    conn.on('error', () => undefined);
    connections.push(conn);
    return conn;
  };

  beforeAll(async () => {
    server = await startMariaDb();
    infra = targetOf(server, 42);
    for (const database of [db, underscored, lookalike])
      await provider.createDatabase(infra, database);
    await provider.createUser(infra, { database: db, ...owner, privileges: 'owner' });
    await provider.createUser(infra, { database: db, ...writer, privileges: 'read-write' });
    await provider.createUser(infra, {
      database: underscored,
      ...underscoredOwner,
      privileges: 'owner',
    });
    const ownerSession = await connect(db, owner);
    await ownerSession.query('CREATE TABLE kv (k VARCHAR(64) PRIMARY KEY, v TEXT)');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.end().catch(() => undefined)));
    await provider.close();
    await server?.destroy();
  });

  it('a read-write user writes rows but cannot CREATE, DROP or ALTER', async () => {
    const session = await connect(db, writer);
    await session.query("INSERT INTO kv VALUES ('k', 'v')");
    // 1142 ER_TABLEACCESS_DENIED_ERROR names the refused command.
    await expect(session.query('CREATE TABLE mine (id int)')).rejects.toMatchObject({
      errno: 1142,
      message: expect.stringMatching(/^CREATE command denied to user/),
    });
    await expect(session.query('DROP TABLE kv')).rejects.toMatchObject({
      errno: 1142,
      message: expect.stringMatching(/^DROP command denied to user/),
    });
    await expect(session.query('ALTER TABLE kv ADD COLUMN extra int')).rejects.toMatchObject({
      errno: 1142,
      message: expect.stringMatching(/^ALTER command denied to user/),
    });
    // 1044 ER_DBACCESS_DENIED_ERROR: database-level statements.
    await expect(session.query(`CREATE DATABASE pv_new_${suffix}`)).rejects.toMatchObject({
      errno: 1044,
      message: expect.stringContaining(`to database 'pv_new_${suffix}'`),
    });
    await expect(session.query(`DROP DATABASE ${db}`)).rejects.toMatchObject({
      errno: 1044,
      message: expect.stringContaining(`to database '${db}'`),
    });
  });

  it('`_` in a grant name is literal: the owner of a_b gets nothing on axb', async () => {
    // Its own database works (the grant exists at all).
    const own = await connect(underscored, underscoredOwner);
    await own.query('CREATE TABLE t (id int)');
    await expect(connect(lookalike, underscoredOwner)).rejects.toMatchObject({
      errno: 1044,
      message: expect.stringContaining(`to database '${lookalike}'`),
    });
    await expect(own.query(`CREATE TABLE ${lookalike}.t (id int)`)).rejects.toMatchObject({
      errno: 1142,
    });
    await expect(own.query(`CREATE DATABASE ${lookalikeToCreate}`)).rejects.toMatchObject({
      errno: 1044,
      message: expect.stringContaining(`to database '${lookalikeToCreate}'`),
    });
  });
});

/** `COMMAND INFO` of one command: [name, arity, flags, first, last, step, categories, tips, keys, subcommands]. */
type CommandInfo = [string, number, ...unknown[]];

describe('redis privileges: the denied command table', () => {
  let server: EngineServer;
  let infra: InfraTarget;
  let admin: Redis;
  const provider = new RedisProvider();
  const clients: Redis[] = [];
  const db = `pv_rd_${suffix}`;

  const commandInfo = async (name: string): Promise<CommandInfo> => {
    const [info] = (await admin.call('COMMAND', 'INFO', name)) as (CommandInfo | null)[];
    if (!info) throw new Error(`Redis knows no command ${name}: fix the rule or this test`);
    return info;
  };

  /** The commands one rule names: a category, a container with all its subcommands, or one command. */
  const commandsOf = async (rule: string): Promise<string[]> => {
    const target = rule.slice(1).toLowerCase();
    if (target === '@all') return ['*'];
    if (target.startsWith('@'))
      return (await admin.call('ACL', 'CAT', target.slice(1))) as string[];
    if (!/^[a-z_-]+(\|[a-z_-]+)?$/.test(target))
      throw new Error(`rule form ${rule} is not understood by this test: teach it`);
    const subcommands = ((await commandInfo(target))[9] ?? []) as CommandInfo[];
    return subcommands.length ? subcommands.map((s) => s[0]) : [target];
  };

  /** Folds the rules left to right as Redis applies them: the commands a level ends up denied. */
  const deniedBy = async (rules: readonly string[]): Promise<Set<string>> => {
    const denied = new Set<string>();
    for (const rule of rules) {
      const commands = await commandsOf(rule);
      if (rule.startsWith('-')) commands.forEach((c) => denied.add(c));
      else if (commands[0] === '*') denied.clear();
      else commands.forEach((c) => denied.delete(c));
    }
    return denied;
  };

  /** A call with exactly the arity Redis wants: arity is checked before ACL, and args are never run. */
  const invocationOf = async (command: string): Promise<string[]> => {
    const [, arity] = await commandInfo(command);
    const words = command.split('|');
    const count = Math.abs(arity);
    const args = Array.from({ length: count - words.length }, (_, i) => `${db}:arg${i}`);
    return [...words, ...args];
  };

  beforeAll(async () => {
    server = await startRedis();
    infra = targetOf(server, 43);
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
    clients.forEach((c) => c.disconnect());
    admin?.disconnect();
    await provider.close();
    await server?.destroy();
  });

  it.each(PRIVILEGES)(
    '%s: every command the table denies is refused with NOPERM',
    async (privileges) => {
      const user = `pv_rd_${privileges.replace('-', '_')}_${suffix}`;
      const password = generatePassword();
      await provider.createUser(infra, { database: db, user, password, privileges });
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
      await expect(client.ping()).resolves.toBe('PONG');

      const denied = await deniedBy(COMMAND_RULES[privileges]);
      // The ones issue 14 names, so that the table cannot lose them unnoticed.
      for (const command of [
        'copy',
        'function|load',
        'function|flush',
        'script|flush',
        'script|kill',
      ])
        expect(denied).toContain(command);

      const allowed: string[] = [];
      for (const command of [...denied].sort()) {
        const call = await invocationOf(command);
        const error = await client.call(call[0], ...call.slice(1)).then(
          () => null,
          (e: Error) => e,
        );
        const refusal = error?.message ?? 'OK';
        const expected = `this user has no permissions to run the '${command}' command`;
        if (refusal === `NOPERM ${expected}`) continue;
        // DEBUG and MODULE are refused by the server before ACL (enable-*-command no): ask ACL DRYRUN.
        if (/^ERR (DEBUG|MODULE) command not allowed/.test(refusal)) {
          const dryRun = String(await admin.call('ACL', 'DRYRUN', user, ...call));
          if (dryRun.toLowerCase() === expected) continue;
        }
        allowed.push(`${call.join(' ')} -> ${refusal}`);
      }
      expect(denied.size).toBeGreaterThan(20);
      // Spelled as the full calls a user would make, with the arguments that matter.
      const named: string[][] = [
        ['COPY', `${db}:a`, `${db}:b`, 'DB', '1'],
        [
          'FUNCTION',
          'LOAD',
          `#!lua name=${db}\nredis.register_function('f', function() return 1 end)`,
        ],
        ['FUNCTION', 'FLUSH'],
        ['SCRIPT', 'FLUSH'],
        ['SCRIPT', 'KILL'],
      ];
      for (const call of named) {
        await expect(client.call(call[0], ...call.slice(1))).rejects.toThrow(
          /^NOPERM this user has no permissions to run the '[a-z|]+' command$/,
        );
      }
      expect(allowed).toEqual([]);
    },
  );
});
