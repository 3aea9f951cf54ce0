/** The four engine types dbaas knows; the `engine_type.name` values. */
export const ENGINE_TYPES = ['postgresql', 'mysql', 'mongodb', 'redis'] as const;
export type EngineTypeName = (typeof ENGINE_TYPES)[number];

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
}

export interface UserRef {
  database: string;
  user: string;
}

/**
 * The contract every engine implements (a strategy, bound in ENGINE_PROVIDERS).
 *
 * Every operation is idempotent: create if absent, drop if present, so a retried or
 * resumed operation converges. An unreachable or timed-out engine is reported as
 * EngineUnavailableError (from @dbaas/core), never as a raw driver error, and no error
 * message ever contains a password. Names arrive already normalized; providers still
 * validate and quote them by the engine's own rules.
 */
export abstract class EngineProvider {
  abstract readonly type: EngineTypeName;
  /** The longest user name the engine accepts. */
  abstract readonly userNameMaxLength: number;
  /** Database names the engine keeps for itself. */
  abstract readonly reservedNames: readonly string[];

  /** Connects as admin and returns the server version. */
  abstract ping(infra: InfraTarget): Promise<{ version: string }>;
  abstract createDatabase(infra: InfraTarget, database: string): Promise<void>;
  /** Drops the database and everything in it (open sessions are ended first). */
  abstract dropDatabase(infra: InfraTarget, database: string): Promise<void>;
  /** Creates the user with the privileges on the database, or brings an existing one to that state. */
  abstract createUser(infra: InfraTarget, spec: UserSpec): Promise<void>;
  abstract dropUser(infra: InfraTarget, ref: UserRef): Promise<void>;
  /** Changes the password; the old one stops working at once. */
  abstract setPassword(infra: InfraTarget, ref: UserRef, password: string): Promise<void>;
  /** Sets an unknown password, disables the login and ends the user's open sessions. No data is dropped. */
  abstract revokeAccess(infra: InfraTarget, ref: UserRef): Promise<void>;
  /** Enables the login again with this password and these privileges. */
  abstract restoreAccess(infra: InfraTarget, spec: UserSpec): Promise<void>;
  /** Bytes used by the database on the engine. */
  abstract usedSize(infra: InfraTarget, database: string): Promise<number>;
  /** Connection URL with `<user>:<password>` placeholders. */
  abstract endpoint(infra: InfraTarget, database: string): string;
  /**
   * Whether the database exists on the engine, whoever made it: a create refuses such a
   * name, so a database dbaas did not make (another installation's, or another infra's on
   * the same server) is never taken over. Redis: a key of the prefix exists, or a user is
   * confined to it.
   */
  abstract databaseExists(infra: InfraTarget, database: string): Promise<boolean>;
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
   * Sentences naming what leaves the engine's tenants unprotected (a login that needs no
   * password, user changes lost at a restart); empty when nothing was found. Checks the
   * admin may not run are skipped; an unreachable engine throws as every other method.
   */
  abstract securityWarnings(infra: InfraTarget): Promise<string[]>;
  /** Closes every pool (app shutdown). */
  abstract close(): Promise<void>;
}
