import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { AdminSession, BaseEngineProvider } from '../base-engine-provider';
import { parseAddress } from '../common/address';
import {
  COMMAND_TIMEOUT_MS,
  CONNECT_TIMEOUT_MS,
  EngineCommandError,
  NETWORK_ERROR_CODES,
  unavailable,
} from '../common/engine-errors';
import { InfraPools } from '../common/infra-pools';
import { InfraTarget, UserAccess, UserRef, UserSpec } from '../engine-provider';
import { commandRules, keyPattern, passwordRule, prefixesOfAclLine } from './redis-acl';
import { DumpTool } from '../common/dump-tool';
import { RedisDumpTool } from './redis.dump-tool';

const DEFAULT_PORT = 6379;
/** Redis has no limit; 64 keeps names readable in ACL LIST and matches MySQL's identifiers. */
const NAME_MAX_LENGTH = 64;
const SCAN_BATCH = 1000;
/** usedSize reads at most this many keys, or for at most this long (see usedSize). */
const SIZE_MAX_KEYS = 10_000;
const SIZE_MAX_MS = 2_000;
/**
 * databaseExists reads the whole keyspace when no key has the prefix (Redis has no index of
 * prefixes): in large SCAN batches, and for at most this long, so that a create still
 * answers within seconds. Past it the answer is unknown, and the create is refused (503).
 */
const EXISTS_SCAN_BATCH = 10_000;
const EXISTS_MAX_MS = COMMAND_TIMEOUT_MS;

const UNAVAILABLE_MESSAGES =
  /WRONGPASS|NOAUTH|LOADING|MASTERDOWN|BUSY|Connection is closed|timed out|Stream isn't writeable|ETIMEDOUT|ECONNREFUSED/;

/**
 * One admin connection per infra (Redis multiplexes commands on a single connection).
 * ioredis' automatic reconnection and offline queue are off: a command on a dead server
 * must fail fast, and the next call simply connects again.
 */
class AdminConnection {
  private client: Redis | null = null;
  private connecting: Promise<Redis> | null = null;

  constructor(private readonly infra: InfraTarget) {}

  async get(): Promise<Redis> {
    if (this.client?.status === 'ready') return this.client;
    if (this.connecting) return this.connecting;
    this.client?.disconnect();
    const { host, port } = parseAddress(this.infra.addresses[0] ?? '', DEFAULT_PORT);
    const client = new Redis({
      host,
      port,
      username: this.infra.adminUser,
      password: this.infra.adminPassword,
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectionName: 'dbaas',
    });
    client.on('error', () => undefined); // reported through the failing command instead
    this.client = client;
    this.connecting = client
      .connect()
      .then(() => client)
      .catch((error) => {
        client.disconnect();
        throw error;
      })
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.quit().catch(() => client.disconnect());
  }
}

/**
 * Redis 7 with ACL users. A dbaas database is the key prefix `name:` in logical database 0
 * (there is nothing to create); a credential is an ACL user confined to `~name:*` keys and
 * `&name:*` channels (see redis-acl.ts for the command rules). Standalone servers only:
 * the first address is used.
 */
export class RedisProvider extends BaseEngineProvider<Redis> {
  static readonly type = 'redis';
  readonly displayName = 'Redis';
  readonly catalogTags = ['redis', 'key-value', 'caching'];
  readonly defaultPort = DEFAULT_PORT;
  readonly userNameMaxLength = NAME_MAX_LENGTH;
  protected readonly databaseNameMaxLength = NAME_MAX_LENGTH;
  readonly reservedNames: readonly string[] = [];
  /** `default` is the user of every client that does not AUTH. */
  readonly reservedUserNames: readonly string[] = ['default'];
  readonly reservedUserPrefixes: readonly string[] = [];
  protected override readonly protectedUsers: readonly string[] = ['default'];
  readonly dumpTool: DumpTool = new RedisDumpTool();
  readonly listsEveryDatabase = false;
  protected readonly urlScheme = 'redis';
  protected readonly multiHostUrl = false;

  private readonly logger = new Logger(RedisProvider.name);

  private readonly connections = new InfraPools<AdminConnection>(
    (infra) => new AdminConnection(infra),
    (connection) => connection.close(),
  );

  async ping(infra: InfraTarget): Promise<{ version: string }> {
    return this.withAdmin(infra, [], async (redis) => {
      const info = String(await redis.call('INFO', 'server'));
      const version = /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
      return { version };
    });
  }

  /** Nothing to create: a prefix exists as soon as a key has it. */
  async createDatabase(infra: InfraTarget, database: string): Promise<void> {
    this.databaseName(database);
    await this.withAdmin(infra, [], async () => undefined); // still proves the server answers
  }

  async dropDatabase(infra: InfraTarget, database: string): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], async (redis) => {
      for (const user of await this.usersOfPrefix(redis, db)) await this.killClients(redis, user);
      for await (const keys of scanPrefix(redis, db)) {
        if (keys.length) await redis.call('UNLINK', ...keys); // frees memory in the background
      }
    });
  }

  async createUser(infra: InfraTarget, spec: UserSpec): Promise<void> {
    const db = this.databaseName(spec.database);
    const user = this.credentialUser(spec.user, infra);
    const rules = commandRules(this.checkPrivileges(spec.privileges), spec.writesBlocked === true);
    await this.withAdmin(infra, [spec.password], async (redis) => {
      // `reset` first: one atomic command brings a new or existing user to exactly this state.
      await redis.call(
        'ACL',
        'SETUSER',
        user,
        'reset',
        'on',
        passwordRule(spec.password),
        `~${keyPattern(db)}`,
        // `reset` grants every channel where acl-pubsub-default is allchannels.
        'resetchannels',
        `&${keyPattern(db)}`,
        ...rules,
      );
      await this.persistAcl(redis);
    });
  }

  /**
   * `nocommands` then the rules with WRITES_BLOCKED_RULES: keys, channels and password stay.
   * Connected clients of the user are bound by the new rules at once.
   */
  async restrictWrites(infra: InfraTarget, database: string, users: UserAccess[]): Promise<void> {
    await this.setCommandRules(infra, database, users, true);
  }

  async allowWrites(infra: InfraTarget, database: string, users: UserAccess[]): Promise<void> {
    await this.setCommandRules(infra, database, users, false);
  }

  private async setCommandRules(
    infra: InfraTarget,
    database: string,
    users: UserAccess[],
    writesBlocked: boolean,
  ): Promise<void> {
    this.databaseName(database);
    await this.withAdmin(infra, [], async (redis) => {
      for (const { user, privileges } of users) {
        const name = this.credentialUser(user, infra);
        const rules = commandRules(this.checkPrivileges(privileges), writesBlocked);
        // ACL SETUSER would create a missing user: drift repair recreates it instead.
        if (!(await this.hasUser(redis, name))) continue;
        await redis.call('ACL', 'SETUSER', name, 'nocommands', ...rules);
      }
      await this.persistAcl(redis);
    });
  }

  async dropUser(infra: InfraTarget, ref: UserRef): Promise<void> {
    this.databaseName(ref.database);
    const user = this.credentialUser(ref.user, infra);
    await this.withAdmin(infra, [], async (redis) => {
      if (!(await this.hasUser(redis, user))) return;
      await redis.call('ACL', 'SETUSER', user, 'off');
      await this.killClients(redis, user);
      await redis.call('ACL', 'DELUSER', user);
      await this.persistAcl(redis);
    });
  }

  async setPassword(infra: InfraTarget, ref: UserRef, password: string): Promise<void> {
    this.databaseName(ref.database);
    const user = this.credentialUser(ref.user, infra);
    await this.withAdmin(infra, [password], async (redis) => {
      // ACL SETUSER would silently create a missing user, without any key access.
      if (!(await this.hasUser(redis, user)))
        throw new EngineCommandError(this.type, `user ${user} does not exist`);
      await redis.call('ACL', 'SETUSER', user, 'resetpass', passwordRule(password));
      await this.persistAcl(redis);
    });
  }

  async revokeAccess(infra: InfraTarget, ref: UserRef): Promise<void> {
    this.databaseName(ref.database);
    const user = this.credentialUser(ref.user, infra);
    await this.withAdmin(infra, [], async (redis) => {
      if (!(await this.hasUser(redis, user))) return;
      const unknown = passwordRule(randomBytes(32).toString('hex'));
      await redis.call('ACL', 'SETUSER', user, 'off', 'resetpass', unknown);
      // `off` only refuses new logins.
      await this.killClients(redis, user);
      await this.persistAcl(redis);
    });
  }

  /**
   * The sum of MEMORY USAGE over the prefix's keys. Bounded so a huge prefix cannot stall
   * the server or the request: after SIZE_MAX_KEYS keys or SIZE_MAX_MS, the sum so far is
   * returned, a LOWER BOUND of the real size (SCAN gives no reliable total to extrapolate
   * from). Exact below 10,000 keys.
   */
  async usedSize(infra: InfraTarget, database: string): Promise<number> {
    const db = this.databaseName(database);
    return this.withAdmin(infra, [], async (redis) => {
      const deadline = Date.now() + SIZE_MAX_MS;
      let total = 0;
      let seen = 0;
      for await (const keys of scanPrefix(redis, db)) {
        if (keys.length) {
          const pipeline = redis.pipeline();
          for (const key of keys) pipeline.call('MEMORY', 'USAGE', key);
          for (const [error, bytes] of (await pipeline.exec()) ?? []) {
            if (!error) total += Number(bytes ?? 0); // null: the key expired meanwhile
          }
          seen += keys.length;
        }
        if (seen >= SIZE_MAX_KEYS || Date.now() >= deadline) break;
      }
      return total;
    });
  }

  /** The path is the logical database 0, where every prefix lives. */
  protected override urlPath(): string {
    return '0';
  }

  /** Every key of the database must start with this prefix. */
  protected override connectionExtras(database: string): Record<string, string> {
    return { key_prefix: `${database}:` };
  }

  /**
   * A prefix exists when a user is confined to it or when a key has it, whoever wrote that
   * key: users alone would make the prefix of a database whose credentials are gone (or
   * another installation's keys) look free, and its next owner would get those keys.
   */
  async databaseExists(infra: InfraTarget, database: string): Promise<boolean> {
    const db = this.databaseName(database);
    return this.withAdmin(infra, [], async (redis) => {
      if ((await this.usersOfPrefix(redis, db)).length > 0) return true;
      const deadline = Date.now() + EXISTS_MAX_MS;
      for await (const keys of scanPrefix(redis, db, EXISTS_SCAN_BATCH)) {
        if (keys.length > 0) return true;
        if (Date.now() >= deadline) {
          const why = `no answer within ${EXISTS_MAX_MS} ms to whether keys of the prefix ${db}: exist`;
          throw unavailable(this.type, infra.addresses, new Error(why), []);
        }
      }
      return false;
    });
  }

  async userExists(infra: InfraTarget, user: string): Promise<boolean> {
    const name = this.userName(user);
    return this.withAdmin(infra, [], (redis) => this.hasUser(redis, name));
  }

  /** The prefixes the ACL users are confined to (a cheap list: keys are not read; see databaseExists). */
  async listDatabases(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (redis) => {
      const lines = (await redis.call('ACL', 'LIST')) as string[];
      const prefixes = new Set<string>();
      for (const line of lines) {
        const name = line.split(' ')[1];
        if (name === 'default' || name === infra.adminUser) continue;
        for (const prefix of prefixesOfAclLine(line)) prefixes.add(prefix);
      }
      return [...prefixes].sort();
    });
  }

  async listUsers(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (redis) => {
      const users = (await redis.call('ACL', 'USERS')) as string[];
      return users
        .filter((u) => u !== 'default' && u !== infra.adminUser && this.isManageableName(u))
        .sort();
    });
  }

  /**
   * The `default` user (what a client without AUTH is) enabled without a password, and ACL
   * changes that cannot be persisted: ACL SAVE needs an aclfile, CONFIG REWRITE (the
   * fallback of persistAcl) a config file; with neither, every credential vanishes at a
   * restart. A check the admin is not allowed to run is skipped.
   */
  async securityWarnings(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (redis) => {
      const warnings: string[] = [];
      const allowed = <T>(reply: Promise<T>) =>
        reply.catch((error: Error) => {
          if (/NOPERM|unknown command/i.test(error.message)) return null;
          throw error;
        });
      const flags = aclFlags(await allowed(redis.call('ACL', 'GETUSER', 'default')));
      if (flags.includes('on') && flags.includes('nopass')) {
        warnings.push(
          `The Redis default user is enabled without a password: any client that reaches ${infra.addresses[0]} is logged in as it, with its rights, without AUTH.`,
        );
      }
      const aclfile = (await allowed(redis.call('CONFIG', 'GET', 'aclfile'))) as string[] | null;
      const info = await allowed(redis.call('INFO', 'server'));
      if (aclfile && info !== null) {
        const configFile = /^config_file:(.*)$/m.exec(String(info as string))?.[1]?.trim() ?? '';
        if (!aclfile[1] && !configFile) {
          warnings.push(
            'Redis ACL changes are not persisted (no ACL file, and no config file for CONFIG REWRITE): every credential vanishes when Redis restarts.',
          );
        }
      }
      return warnings;
    });
  }

  async close(): Promise<void> {
    await this.connections.closeAll();
  }

  // --- internals -------------------------------------------------------------------------

  /** Validates the name and refuses the accounts a credential must never take over. */
  private credentialUser(name: string, infra: InfraTarget): string {
    const user = this.userName(name);
    this.assertNotProtected(user, infra);
    return user;
  }

  private async hasUser(redis: Redis, user: string): Promise<boolean> {
    return (await redis.call('ACL', 'GETUSER', user)) !== null;
  }

  private async usersOfPrefix(redis: Redis, db: string): Promise<string[]> {
    const lines = (await redis.call('ACL', 'LIST')) as string[];
    return lines
      .filter((line) => prefixesOfAclLine(line).includes(db))
      .map((line) => line.split(' ')[1]);
  }

  /**
   * ACL SETUSER only changes memory: without this, every credential would vanish (or come
   * back revoked ones) at the next Redis restart. ACL SAVE when the server uses an aclfile,
   * else CONFIG REWRITE (users are then kept in redis.conf). A server with neither (started
   * without a config file) cannot persist users: that is logged, not fatal.
   */
  private async persistAcl(redis: Redis): Promise<void> {
    try {
      await redis.call('ACL', 'SAVE');
    } catch (aclError) {
      try {
        await redis.call('CONFIG', 'REWRITE');
      } catch (rewriteError) {
        if (isUnavailable(rewriteError)) throw rewriteError;
        this.logger.warn(
          `ACL changes are not persisted (${(aclError as Error).message}; ${(rewriteError as Error).message})`,
        );
      }
    }
  }

  private async killClients(redis: Redis, user: string): Promise<void> {
    await redis.call('CLIENT', 'KILL', 'USER', user).catch((error: Error) => {
      if (!/No such user/i.test(error.message)) throw error;
    });
  }

  protected async acquireAdmin(infra: InfraTarget): Promise<AdminSession<Redis>> {
    const redis = await this.connections.get(infra).get();
    return { admin: redis, release: () => undefined };
  }

  protected isUnavailable(error: unknown): boolean {
    return isUnavailable(error);
  }
}

/** The `flags` of an ACL GETUSER reply (a flat field/value list, or a map in RESP3). */
function aclFlags(reply: unknown): string[] {
  if (reply instanceof Map) return (reply.get('flags') as string[] | undefined) ?? [];
  if (!Array.isArray(reply)) return [];
  const at = reply.indexOf('flags');
  return at >= 0 && Array.isArray(reply[at + 1]) ? (reply[at + 1] as string[]) : [];
}

function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  return NETWORK_ERROR_CODES.has(code) || UNAVAILABLE_MESSAGES.test(message);
}

/**
 * The keys of a prefix, a SCAN batch at a time. Batches may be empty (SCAN filters after
 * reading), and are still yielded so that a caller can stop on its own time budget.
 */
async function* scanPrefix(
  redis: Redis,
  database: string,
  batch = SCAN_BATCH,
): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = (await redis.call(
      'SCAN',
      cursor,
      'MATCH',
      keyPattern(database),
      'COUNT',
      batch,
    )) as [string, string[]];
    cursor = next;
    yield keys;
  } while (cursor !== '0');
}
