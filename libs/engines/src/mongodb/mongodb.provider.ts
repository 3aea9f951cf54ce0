import { randomBytes } from 'node:crypto';
// Types only: the driver (about 24 MB of memory, most of it saslprep's tables) is loaded on
// the first connection to a MongoDB infra, so an API without one never pays for it.
import type { Document } from 'mongodb';
import { AdminSession, BaseEngineProvider } from '../base-engine-provider';
import {
  COMMAND_TIMEOUT_MS,
  CONNECT_TIMEOUT_MS,
  EngineCommandError,
} from '../common/engine-errors';
import { InfraPools } from '../common/infra-pools';
import { DumpTool } from '../common/dump-tool';
import { runTool, ToolRun } from '../common/run-tool';
import { InfraTarget, Privileges, UserRef, UserSpec } from '../engine-provider';
import { MongoDumpTool } from './mongo.dump-tool';

/** MongoDB database names are limited to 64 bytes; users have no practical limit. */
const DATABASE_NAME_MAX_LENGTH = 63;
const USER_NAME_MAX_LENGTH = 64;

const ROLES: Record<Privileges, string> = {
  owner: 'dbOwner',
  'read-write': 'readWrite',
  'read-only': 'read',
};

const CODE_USER_NOT_FOUND = 11;
const CODE_AUTHENTICATION_FAILED = 18;
const CODE_USER_ALREADY_EXISTS = 51003;
/** Driver errors meaning "no server to talk to", matched by class name (with subclasses). */
const UNAVAILABLE_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoOperationTimeoutError',
]);

/** The slice of the driver the provider uses: a fake of it is enough to test every command. */
export interface MongoDbLike {
  command(command: Document): Promise<Document>;
}
export interface MongoClientLike {
  db(name: string): MongoDbLike;
  close(): Promise<void>;
}
/** Connects to an infra as its admin (authenticated against the `admin` database). */
export type MongoClientFactory = (infra: InfraTarget) => Promise<MongoClientLike>;

export const connectMongoClient: MongoClientFactory = async (infra) => {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(`mongodb://${infra.addresses.join(',')}/`, {
    auth: { username: infra.adminUser, password: infra.adminPassword },
    authSource: 'admin',
    serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS,
    connectTimeoutMS: CONNECT_TIMEOUT_MS,
    socketTimeoutMS: COMMAND_TIMEOUT_MS,
    maxPoolSize: 4,
    appName: 'dbaas',
  });
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return client;
};

/**
 * MongoDB. A credential is a user defined in its own database (authSource = the database)
 * with one built-in role on it: dbOwner, readWrite or read.
 *
 * MongoDB has no NOLOGIN: revokeAccess sets an unknown password and removes every role.
 * Open connections stay authenticated, but the user cache is invalidated at once, so they
 * can no longer read or write anything; their running operations are ended with
 * killAllSessionsByPattern (best effort: it needs the killAnySession privilege, and
 * MongoDB cannot close another user's connections).
 *
 * The client factory is injectable so the command layer is tested against a fake `Db`
 * (no MongoDB server can be installed on the development machines).
 */
export class MongodbProvider extends BaseEngineProvider<MongoClientLike> {
  static readonly type = 'mongodb';
  readonly displayName = 'MongoDB';
  readonly catalogTags = ['mongodb', 'document', 'nosql'];
  readonly defaultPort = 27017;
  readonly userNameMaxLength = USER_NAME_MAX_LENGTH;
  protected readonly databaseNameMaxLength = DATABASE_NAME_MAX_LENGTH;
  readonly reservedNames: readonly string[] = ['admin', 'config', 'local'];
  readonly reservedUserNames: readonly string[] = ['admin', 'root'];
  readonly reservedUserPrefixes: readonly string[] = ['system_'];
  readonly listsEveryDatabase = false;
  /** Not built for MongoDB (no server to prove it on): the size-limit check skips it. */
  override readonly enforcesSizeLimit = false;
  protected readonly urlScheme = 'mongodb';
  /** A replica set's members, all of them (the driver finds the primary). */
  protected readonly multiHostUrl = true;

  private readonly clients: InfraPools<Promise<MongoClientLike>>;

  /** UNPROVEN (no MongoDB here): see MongoDumpTool. A restore empties the database with dropDatabase. */
  readonly dumpTool: DumpTool;

  constructor(
    connect: MongoClientFactory = connectMongoClient,
    runTools: (run: ToolRun) => Promise<void> = runTool,
  ) {
    super();
    this.dumpTool = new MongoDumpTool((infra, db) => this.dropDatabase(infra, db), runTools);
    this.clients = new InfraPools<Promise<MongoClientLike>>(
      (infra) => connect(infra),
      async (client) => (await client.catch(() => null))?.close(),
    );
  }

  async ping(infra: InfraTarget): Promise<{ version: string }> {
    return this.withAdmin(infra, [], async (client) => {
      const info = await client.db('admin').command({ buildInfo: 1 });
      return { version: String(info.version) };
    });
  }

  /** MongoDB creates a database on its first write; this only checks the name and the server. */
  async createDatabase(infra: InfraTarget, database: string): Promise<void> {
    this.databaseName(database);
    await this.withAdmin(infra, [], (client) => client.db('admin').command({ ping: 1 }));
  }

  async dropDatabase(infra: InfraTarget, database: string): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], async (client) => {
      const { users = [] } = await client.db(db).command({ usersInfo: 1 });
      await this.killSessions(
        client,
        (users as Document[]).map((u) => ({ user: String(u.user), db })),
      );
      await client.db(db).command({ dropDatabase: 1 });
    });
  }

  async createUser(infra: InfraTarget, spec: UserSpec): Promise<void> {
    const db = this.databaseName(spec.database);
    const user = this.credentialUser(spec.user, infra);
    const role = ROLES[this.checkPrivileges(spec.privileges)];
    const roles = [{ role, db }];
    await this.withAdmin(infra, [spec.password], async (client) => {
      const target = client.db(db);
      if (await this.hasUser(target, user, db)) {
        await target.command({ updateUser: user, pwd: spec.password, roles });
        return;
      }
      try {
        await target.command({ createUser: user, pwd: spec.password, roles });
      } catch (error) {
        if ((error as { code?: number }).code !== CODE_USER_ALREADY_EXISTS) throw error;
        await target.command({ updateUser: user, pwd: spec.password, roles }); // created concurrently
      }
    });
  }

  async dropUser(infra: InfraTarget, ref: UserRef): Promise<void> {
    const db = this.databaseName(ref.database);
    const user = this.credentialUser(ref.user, infra);
    await this.withAdmin(infra, [], async (client) => {
      await this.killSessions(client, [{ user, db }]);
      await client
        .db(db)
        .command({ dropUser: user })
        .catch((error) => {
          if ((error as { code?: number }).code !== CODE_USER_NOT_FOUND) throw error;
        });
    });
  }

  async setPassword(infra: InfraTarget, ref: UserRef, password: string): Promise<void> {
    const db = this.databaseName(ref.database);
    const user = this.credentialUser(ref.user, infra);
    await this.withAdmin(infra, [password], (client) =>
      client.db(db).command({ updateUser: user, pwd: password }),
    );
  }

  async revokeAccess(infra: InfraTarget, ref: UserRef): Promise<void> {
    const db = this.databaseName(ref.database);
    const user = this.credentialUser(ref.user, infra);
    const unknown = randomBytes(32).toString('base64url');
    await this.withAdmin(infra, [unknown], async (client) => {
      const target = client.db(db);
      if (!(await this.hasUser(target, user, db))) return;
      await target.command({ updateUser: user, pwd: unknown, roles: [] });
      await this.killSessions(client, [{ user, db }]);
    });
  }

  restrictWrites(): Promise<void> {
    return Promise.reject(
      new EngineCommandError(this.type, 'size limits are not enforced on MongoDB'),
    );
  }

  /** Nothing was restricted: nothing to give back. */
  async allowWrites(): Promise<void> {}

  async usedSize(infra: InfraTarget, database: string): Promise<number> {
    const db = this.databaseName(database);
    return this.withAdmin(infra, [], async (client) => {
      const stats = await client.db(db).command({ dbStats: 1, scale: 1 });
      return Number(stats.dataSize ?? 0) + Number(stats.indexSize ?? 0);
    });
  }

  // The endpoint (BaseEngineProvider) has no authSource: the URL's database is then the
  // authentication database, as wanted.

  /**
   * A database holding data, or one that only has users so far (see listDatabases). A
   * reserved name (admin, config, local) is never one dbaas could manage: false.
   */
  async databaseExists(infra: InfraTarget, database: string): Promise<boolean> {
    const db = this.databaseName(database);
    if (this.reservedNames.includes(db)) return false;
    return this.withAdmin(infra, [], async (client) => {
      const { databases = [] } = await client
        .db('admin')
        .command({ listDatabases: 1, nameOnly: true, filter: { name: db } });
      if ((databases as Document[]).length > 0) return true;
      const { users = [] } = await client.db(db).command({ usersInfo: 1 });
      return (users as Document[]).length > 0;
    });
  }

  /** A user of that name in any database (MongoDB users belong to a database). */
  async userExists(infra: InfraTarget, user: string): Promise<boolean> {
    const name = this.userName(user);
    return this.withAdmin(infra, [], async (client) => {
      const { users = [] } = await client
        .db('admin')
        .command({ usersInfo: { forAllDBs: true }, filter: { user: name } });
      return (users as Document[]).length > 0;
    });
  }

  /** Databases holding data, plus those that only have users so far (empty ones do not exist in MongoDB). */
  async listDatabases(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (client) => {
      const admin = client.db('admin');
      const { databases = [] } = await admin.command({ listDatabases: 1, nameOnly: true });
      const { users = [] } = await admin.command({ usersInfo: { forAllDBs: true } });
      const names = new Set<string>([
        ...(databases as Document[]).map((d) => String(d.name)),
        ...(users as Document[]).map((u) => String(u.db)),
      ]);
      return [...names].filter((name) => this.isManageable(name)).sort();
    });
  }

  async listUsers(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (client) => {
      const { users = [] } = await client.db('admin').command({ usersInfo: { forAllDBs: true } });
      const names = (users as Document[])
        .filter((u) => this.isManageable(String(u.db)))
        .map((u) => String(u.user))
        .filter((name) => this.isManageableName(name) && name !== infra.adminUser);
      return [...new Set(names)].sort();
    });
  }

  /**
   * A server without access control (`security.authorization` not enabled) lets any client
   * in without a login. Read from getCmdLineOpts; skipped when the admin may not run it.
   */
  async securityWarnings(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (client) => {
      let options: Document;
      try {
        options = await client.db('admin').command({ getCmdLineOpts: 1 });
      } catch (error) {
        if (isUnavailable(error)) throw error;
        return [];
      }
      const security = (options.parsed as Document | undefined)?.security as Document | undefined;
      if (security?.authorization === 'enabled' || security?.keyFile) return [];
      return [
        `MongoDB runs without access control (security.authorization is not enabled): any client that reaches ${infra.addresses[0]} can read and change every database without a login.`,
      ];
    });
  }

  async close(): Promise<void> {
    await this.clients.closeAll();
  }

  // --- internals -------------------------------------------------------------------------

  /** Validates the name and refuses the infra's admin. */
  private credentialUser(name: string, infra: InfraTarget): string {
    const user = this.userName(name);
    this.assertNotProtected(user, infra);
    return user;
  }

  private isManageable(database: string): boolean {
    return this.isManageableName(database) && !this.reservedNames.includes(database);
  }

  private async hasUser(db: MongoDbLike, user: string, database: string): Promise<boolean> {
    const { users = [] } = await db.command({ usersInfo: { user, db: database } });
    return (users as Document[]).length > 0;
  }

  /** Ends the users' sessions and their running operations; best effort (see the class comment). */
  private async killSessions(
    client: MongoClientLike,
    users: { user: string; db: string }[],
  ): Promise<void> {
    if (!users.length) return;
    await client
      .db('admin')
      .command({ killAllSessionsByPattern: [{ users }] })
      .catch((error) => {
        if (isUnavailable(error)) throw error;
      });
  }

  /** The infra's client (connected once, then shared); a failed connect is forgotten, so the next call tries again. */
  protected async acquireAdmin(infra: InfraTarget): Promise<AdminSession<MongoClientLike>> {
    const pending = this.clients.get(infra);
    try {
      return { admin: await pending, release: () => undefined };
    } catch (error) {
      this.clients.discard(infra, pending);
      throw error;
    }
  }

  protected isUnavailable(error: unknown): boolean {
    return isUnavailable(error);
  }
}

function isUnavailable(error: unknown): boolean {
  const e = error as { name?: string; code?: number } | null;
  return (
    classNames(error).some((name) => UNAVAILABLE_NAMES.has(name)) ||
    UNAVAILABLE_NAMES.has(e?.name ?? '') ||
    e?.code === CODE_AUTHENTICATION_FAILED
  );
}

/** The class names along an error's prototype chain: `instanceof` without loading the driver. */
function classNames(error: unknown): string[] {
  const names: string[] = [];
  for (
    let proto: unknown =
      error !== null && typeof error === 'object' ? Object.getPrototypeOf(error) : null;
    proto;
    proto = Object.getPrototypeOf(proto) as unknown
  ) {
    names.push((proto as { constructor?: { name?: string } }).constructor?.name ?? '');
  }
  return names;
}
