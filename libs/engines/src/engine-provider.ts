import { PlanLimits } from '@dbaas/catalog';
import type { DumpTool } from './common/dump-tool';

/**
 * An engine type name (`engine_type.name`): the `type` of a registered provider. The set of
 * names is the provider list (ENGINE_TYPES, engine-list.ts), not a union written here.
 */
export type EngineTypeName = string;

export const PRIVILEGES = ['owner', 'read-write', 'read-only'] as const;
export type Privileges = (typeof PRIVILEGES)[number];

/** How to reach one infra (an engine server or cluster) as its administrator. */
export interface InfraTarget {
  /** The infra's id: providers keep one connection pool per infra. */
  id: number;
  /** One or more `host:port`. */
  addresses: string[];
  adminUser: string;
  /** Plaintext, decrypted just before use; never logged. */
  adminPassword: string;
}

export interface UserSpec {
  database: string;
  user: string;
  password: string;
  privileges: Privileges;
  /**
   * The plan's connection limit, for engines that count connections per login (MySQL:
   * MAX_USER_CONNECTIONS); 0 = none; absent = leave as it is on the engine.
   */
  maxConnections?: number;
  /**
   * The database is over its plan's size limit (SPEC §10): the user gets read and delete
   * only, as restrictWrites leaves it. Every path that (re)creates a user passes it.
   */
  writesBlocked?: boolean;
}

/** A user of a database and its privileges: what restrictWrites and allowWrites act on. */
export interface UserAccess {
  user: string;
  privileges: Privileges;
}

/**
 * The limits a plan puts on each of its databases (0 = none): the catalog's PlanLimits,
 * one shape for both, so that a limit added later reaches the engines too.
 * `maxConnections`: connections the database may hold at once (all its logins together
 * where the engine counts per database).
 */
export type DatabaseLimits = PlanLimits;

export interface UserRef {
  database: string;
  user: string;
}

/** A login to fill a database's endpoint with. */
export interface Login {
  username: string;
  password: string;
}

/**
 * How an application reaches one database with one login: what an Open Service Broker
 * binding (and any client that wants fields rather than a URI) hands out.
 */
export interface ConnectionDetails {
  /** The endpoint filled with the login (user and password URI-encoded). */
  uri: string;
  /** The first address the URI names, parsed (IPv6 without brackets). */
  host: string;
  port: number;
  /** Every `host:port` the URI names (MongoDB replica sets and libpq multi-host have several). */
  hosts: string[];
  /** The same addresses, parsed. */
  addresses: { host: string; port: number }[];
  /** A JDBC URL with the login, for engines that have a JDBC driver. */
  jdbcUrl?: string;
  /** Fields of this engine only, named as a binding gives them (Redis: `key_prefix`). */
  extras: Record<string, string>;
}

/**
 * The contract every engine implements (a strategy; the providers are listed in
 * engine-list.ts, and most of them extend BaseEngineProvider).
 *
 * Every operation is idempotent: create if absent, drop if present, so a retried or
 * resumed operation converges. An unreachable or timed-out engine is reported as
 * EngineUnavailableError (from @dbaas/core), never as a raw driver error, and no error
 * message ever contains a password. Names arrive already normalized; providers still
 * validate and quote them by the engine's own rules.
 */
export abstract class EngineProvider {
  /** The engine type name: the provider class's static `type` (see engine-list.ts). */
  get type(): EngineTypeName {
    return (this.constructor as { type?: string }).type ?? '';
  }
  /** How people name the engine (OSB catalog display name): `PostgreSQL`, `MySQL/MariaDB`. */
  abstract readonly displayName: string;
  /** Tags for the OSB catalog, the engine's own name first. */
  abstract readonly catalogTags: readonly string[];
  /** The port a client assumes when an address has none. */
  abstract readonly defaultPort: number;
  /** The longest user name the engine accepts. */
  abstract readonly userNameMaxLength: number;
  /** Database names the engine keeps for itself. */
  abstract readonly reservedNames: readonly string[];
  /** Prefixes of database names the engine refuses (PostgreSQL: `pg_`, its role names). */
  readonly reservedNamePrefixes: readonly string[] = [];
  /**
   * Logins that belong to the engine or its administrators, and prefixes of such logins: a
   * credential with one of these names could take the account over (createUser converges
   * on an existing user). The infra's admin is reserved as well, by the caller.
   */
  abstract readonly reservedUserNames: readonly string[];
  abstract readonly reservedUserPrefixes: readonly string[];
  /**
   * Whether the engine can cap a database's connections (plan `max_connections`):
   * PostgreSQL per database, MySQL per login. A plan of an engine that cannot is refused
   * with a limit (EngineLimitRules in the catalog).
   */
  readonly enforcesConnectionLimit: boolean = false;

  /** Connects as admin and returns the server version. */
  abstract ping(infra: InfraTarget): Promise<{ version: string }>;
  /** `limits`: what the engine enforces per database (PostgreSQL: CONNECTION LIMIT). */
  abstract createDatabase(
    infra: InfraTarget,
    database: string,
    limits?: DatabaseLimits,
  ): Promise<void>;
  /** Drops the database and everything in it (open sessions are ended first). */
  abstract dropDatabase(infra: InfraTarget, database: string): Promise<void>;
  /** Creates the user with the privileges on the database, or brings an existing one to that state. */
  abstract createUser(infra: InfraTarget, spec: UserSpec): Promise<void>;
  abstract dropUser(infra: InfraTarget, ref: UserRef): Promise<void>;
  /**
   * Changes the password; the old one stops working at once. `limits`: put on the login
   * again where the engine counts connections per login (MySQL).
   */
  abstract setPassword(
    infra: InfraTarget,
    ref: UserRef,
    password: string,
    limits?: DatabaseLimits,
  ): Promise<void>;
  /**
   * Puts a plan's limits on an existing database and its logins (`users`): the plan change
   * in place (DatabasesService; a new database or credential gets them when made). An engine
   * that enforces none accepts only limits of 0.
   */
  async applyLimits(
    _infra: InfraTarget,
    _database: string,
    _users: readonly string[],
    limits: DatabaseLimits,
  ): Promise<void> {
    if (limits.maxConnections > 0)
      throw new Error(`${this.type}: the engine cannot limit a database's connections`);
  }
  /** Sets an unknown password, disables the login and ends the user's open sessions. No data is dropped. */
  abstract revokeAccess(infra: InfraTarget, ref: UserRef): Promise<void>;
  /** Enables the login again with this password and these privileges. */
  abstract restoreAccess(infra: InfraTarget, spec: UserSpec): Promise<void>;
  /**
   * Whether the provider enforces a plan's size limit (restrictWrites / allowWrites work).
   * The size-limit check leaves the databases of other engines alone.
   */
  abstract readonly enforcesSizeLimit: boolean;
  /**
   * The database went over its size limit: every one of these users keeps read and delete
   * but may no longer insert, update or create (the engine's own terms in docs/engines.md).
   * Users missing on the engine are skipped (drift repair recreates them blocked).
   */
  abstract restrictWrites(infra: InfraTarget, database: string, users: UserAccess[]): Promise<void>;
  /** Back under the limit: every one of these users has its privileges' full rights again. */
  abstract allowWrites(infra: InfraTarget, database: string, users: UserAccess[]): Promise<void>;
  /** Bytes used by the database on the engine (what a plan's size limit is compared with). */
  abstract usedSize(infra: InfraTarget, database: string): Promise<number>;
  /** Connection URL with `<user>:<password>` placeholders, from the infra's addresses alone. */
  abstract endpoint(addresses: readonly string[], database: string): string;
  /** The endpoint filled with a login, and its parts (see ConnectionDetails). */
  abstract connectionDetails(
    addresses: readonly string[],
    database: string,
    login: Login,
  ): ConnectionDetails;
  /**
   * Whether the database exists on the engine, whoever made it: a create refuses such a
   * name, so a database dbaas did not make (another installation's, or another infra's on
   * the same server) is never taken over. Redis: a key of the prefix exists, or a user is
   * confined to it.
   */
  abstract databaseExists(infra: InfraTarget, database: string): Promise<boolean>;
  /**
   * Whether a login of this name exists on the engine, whoever made it (the engine's own
   * accounts and the admin included): a credential never takes such a name.
   */
  abstract userExists(infra: InfraTarget, user: string): Promise<boolean>;
  /** Databases on the engine that dbaas could manage (system ones excluded). */
  abstract listDatabases(infra: InfraTarget): Promise<string[]>;
  /** Users on the engine (system ones excluded). */
  abstract listUsers(infra: InfraTarget): Promise<string[]>;
  /**
   * Whether a database exists on the engine on its own (PostgreSQL, MySQL), so that
   * `listDatabases` missing one means it was dropped. A Redis prefix or a MongoDB database
   * only exists through its keys or users: their lists cannot prove a database gone.
   */
  abstract readonly listsEveryDatabase: boolean;
  /**
   * The engine's own dump and restore of one database (backups, restores in place, clones):
   * `provider.dumpTool.dump(target, database, out)` / `.restore(target, database, input)`
   * with the same InfraTarget as every other method. See DumpTool for what a restore does
   * and how to finish an interrupted one.
   */
  abstract readonly dumpTool: DumpTool;
  /**
   * The role a restore into `database` makes the restored objects belong to
   * (`RestoreOptions.owner`): PostgreSQL's owner group of the database, so its owners and
   * the other credentials' grants apply to the data of a clone or a `from_backup`. Other
   * engines have nothing to own: undefined.
   */
  restoreOwner(database: string): string | undefined {
    void database;
    return undefined;
  }
  /**
   * Sentences naming what leaves the engine's tenants unprotected (a login that needs no
   * password, user changes lost at a restart); empty when nothing was found. Checks the
   * admin may not run are skipped; an unreachable engine throws as every other method.
   */
  abstract securityWarnings(infra: InfraTarget): Promise<string[]>;
  /** Closes every pool (app shutdown). */
  abstract close(): Promise<void>;
}

/** A provider class as the provider list holds it: its static `type` names the engine. */
export interface EngineProviderClass {
  readonly type: EngineTypeName;
  new (): EngineProvider;
}
