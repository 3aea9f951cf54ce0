import { randomBytes } from 'node:crypto';
import { Client, ClientBase, Pool, PoolClient } from 'pg';
import { EngineUnavailableError } from '@dbaas/core';
import { AdminSession, BaseEngineProvider } from '../base-engine-provider';
import { parseAddress } from '../common/address';
import {
  COMMAND_TIMEOUT_MS,
  CONNECT_TIMEOUT_MS,
  EngineCommandError,
  NETWORK_ERROR_CODES,
} from '../common/engine-errors';
import { InfraPools } from '../common/infra-pools';
import {
  DatabaseLimits,
  InfraTarget,
  Privileges,
  UserAccess,
  UserRef,
  UserSpec,
} from '../engine-provider';
import {
  groupRoles,
  passwordSql,
  quoteIdent,
  quoteLiteral,
  writesBlockedRoles,
} from './postgresql-sql';
import { DumpTool } from '../common/dump-tool';
import { PostgresDumpTool } from './postgres.dump-tool';

/** 63 (NAMEDATALEN - 1) minus the longest group-role suffix `:owner`: longer names would be truncated. */
const DATABASE_NAME_MAX_LENGTH = 57;
/** The database the admin connects to for cluster-wide statements. */
const ADMIN_DATABASE = 'postgres';

type Query = ClientBase['query'];

/**
 * PostgreSQL (13+: `DROP DATABASE ... WITH (FORCE)`, `pg_terminate_backend(pid, timeout)`).
 *
 * Privilege model: each database has three NOLOGIN group roles (see `groupRoles`):
 * `<db>:owner` owns the database and its schema `public`; `<db>:rw` and `<db>:ro` get
 * DML / SELECT on everything `<db>:owner` creates, through default privileges. An owner
 * credential is a member of `<db>:owner` and logs in with `role = <db>:owner` set for that
 * database, so the tables it creates belong to the group: several owner credentials share
 * them, and read-write / read-only credentials see them without further grants. This
 * avoids per-user default privileges and per-user object ownership.
 *
 * Size limit (restrictWrites): a table's owner bypasses GRANTs and may re-grant itself
 * anything, so revoking INSERT from `<db>:owner` would not hold. Instead the owner and
 * read-write credentials leave their group for `<db>:rdt` / `<db>:rd` (see
 * writesBlockedRoles: SELECT, DELETE, and TRUNCATE for owners; no CREATE on schema or
 * database, no TEMPORARY) and log in as themselves (the `role` setting is reset); their open sessions are ended, since a
 * session already acting as `<db>:owner` would keep its rights. allowWrites puts them back.
 *
 * The admin pool (max 4 connections) connects to the first address; statements inside a
 * database use a short-lived connection to it, closed at once, so idle databases hold no
 * connections. Extra addresses only appear in the endpoint (libpq multi-host syntax).
 */
export class PostgresqlProvider extends BaseEngineProvider<Query> {
  static readonly type = 'postgresql';
  readonly displayName = 'PostgreSQL';
  readonly catalogTags = ['postgresql', 'relational', 'sql'];
  readonly defaultPort = 5432;
  readonly userNameMaxLength = 63;
  protected readonly databaseNameMaxLength = DATABASE_NAME_MAX_LENGTH;
  readonly reservedNames: readonly string[] = ['postgres', 'template0', 'template1'];
  /** A database's roles are named after it (`<name>:owner`), and `pg_*` roles are PostgreSQL's. */
  override readonly reservedNamePrefixes: readonly string[] = ['pg_'];
  /** `public` is the pseudo-role of everyone; `pg_` names are the server's own roles. */
  readonly reservedUserNames: readonly string[] = [
    'postgres',
    'public',
    'replicator',
    'replication',
  ];
  readonly reservedUserPrefixes: readonly string[] = ['pg_'];
  readonly dumpTool: DumpTool = new PostgresDumpTool();

  override restoreOwner(database: string): string {
    return groupRoles(this.databaseName(database)).owner;
  }
  readonly listsEveryDatabase = true;
  /** The database's CONNECTION LIMIT (superusers are not counted, by PostgreSQL's rule). */
  override readonly enforcesConnectionLimit = true;
  protected readonly urlScheme = 'postgresql';
  /** libpq takes every address (`host1:5432,host2:5432`). */
  protected readonly multiHostUrl = true;
  protected override readonly jdbcSubprotocol = 'postgresql';

  private readonly pools = new InfraPools<Pool>(
    (infra) => {
      const pool = new Pool({
        ...this.connectionConfig(infra, ADMIN_DATABASE),
        max: 4,
        idleTimeoutMillis: 10_000,
      });
      // An idle client dies when the server restarts: without a listener that is a crash.
      pool.on('error', () => undefined);
      return pool;
    },
    (pool) => pool.end(),
  );

  async ping(infra: InfraTarget): Promise<{ version: string }> {
    return this.withAdmin(infra, [], async (q) => {
      const { rows } = await q<{ version: string }>(
        "SELECT current_setting('server_version') AS version",
      );
      return { version: rows[0].version };
    });
  }

  async createDatabase(
    infra: InfraTarget,
    database: string,
    limits?: DatabaseLimits,
  ): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], async (q) => {
      await this.ensureGroupRoles(q, db);
      const groups = groupRoles(db);
      const { rowCount } = await q('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (!rowCount) {
        await ignoreCode(
          q(`CREATE DATABASE ${quoteIdent(db)} OWNER ${quoteIdent(groups.owner)}`),
          '42P04',
        );
      }
      await q(`ALTER DATABASE ${quoteIdent(db)} OWNER TO ${quoteIdent(groups.owner)}`);
      await q(`REVOKE ALL ON DATABASE ${quoteIdent(db)} FROM PUBLIC`);
      await q(
        `GRANT CONNECT, TEMPORARY ON DATABASE ${quoteIdent(db)} TO ${quoteIdent(groups['read-write'])}`,
      );
      await q(`GRANT CONNECT ON DATABASE ${quoteIdent(db)} TO ${quoteIdent(groups['read-only'])}`);
      if (limits) await q(connectionLimitSql(db, limits));
    });
    await this.inDatabase(infra, db, [], (q) => this.prepareSchema(q, db));
  }

  /** The database's CONNECTION LIMIT; its logins need nothing. The plan change in place. */
  override async applyLimits(
    infra: InfraTarget,
    database: string,
    _users: readonly string[],
    limits: DatabaseLimits,
  ): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], (q) => q(connectionLimitSql(db, limits)));
  }

  async dropDatabase(infra: InfraTarget, database: string): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], async (q) => {
      // FORCE ends the database's open sessions first.
      await q(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
      const roles = [...Object.values(groupRoles(db)), ...Object.values(writesBlockedRoles(db))];
      for (const role of roles) {
        await q(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
      }
    });
  }

  async createUser(infra: InfraTarget, spec: UserSpec): Promise<void> {
    const db = this.databaseName(spec.database);
    const user = this.userName(spec.user);
    this.checkPrivileges(spec.privileges);
    const secrets = [spec.password];
    await this.withAdmin(infra, secrets, async (q) => {
      await this.ensureGroupRoles(q, db);
      const role = await this.findRole(q, user, infra);
      const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT PASSWORD ${passwordSql(spec.password)}`;
      if (role) {
        await q(`ALTER ROLE ${quoteIdent(user)} ${attributes}`);
      } else {
        await q(`CREATE ROLE ${quoteIdent(user)} ${attributes}`).catch(async (error) => {
          if ((error as { code?: string }).code !== '42710') throw error; // created concurrently
          await q(`ALTER ROLE ${quoteIdent(user)} ${attributes}`);
        });
      }
      if (spec.writesBlocked) await this.ensureWritesBlockedRoles(q, db);
      await this.setMemberships(q, db, user, spec.privileges, spec.writesBlocked === true);
    });
    // Re-applied for tables an owner created outside the owner group (after RESET ROLE).
    await this.inDatabase(infra, db, secrets, async (q) => {
      await this.prepareSchema(q, db);
      if (spec.writesBlocked) {
        await this.reassignOwned(q, db, [{ user: spec.user, privileges: spec.privileges }]);
        await this.grantWritesBlocked(q, db);
      }
    });
  }

  async restrictWrites(infra: InfraTarget, database: string, users: UserAccess[]): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], async (q) => {
      await this.ensureGroupRoles(q, db);
      await this.ensureWritesBlockedRoles(q, db);
    });
    await this.inDatabase(infra, db, [], async (q) => {
      await this.reassignOwned(q, db, users);
      await this.grantWritesBlocked(q, db);
    });
    await this.changeMemberships(infra, db, users, true);
  }

  async allowWrites(infra: InfraTarget, database: string, users: UserAccess[]): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], (q) => this.ensureGroupRoles(q, db));
    await this.inDatabase(infra, db, [], (q) => this.largeObjectCreation(q, 'GRANT'));
    await this.changeMemberships(infra, db, users, false);
  }

  async dropUser(infra: InfraTarget, ref: UserRef): Promise<void> {
    const db = this.databaseName(ref.database);
    const user = this.userName(ref.user);
    const exists = await this.withAdmin(infra, [], async (q) => {
      if (!(await this.findRole(q, user, infra))) return false;
      await q(`ALTER ROLE ${quoteIdent(user)} NOLOGIN`);
      await this.terminateSessions(q, user);
      return true;
    });
    if (!exists) return;
    const databaseExists = await this.withAdmin(infra, [], async (q) => {
      return (await q('SELECT 1 FROM pg_database WHERE datname = $1', [db])).rowCount === 1;
    });
    if (databaseExists) {
      // Keep what the user created (it belongs to the database, not to the credential),
      // then remove its grants and default privileges so DROP ROLE has no dependencies.
      await this.inDatabase(infra, db, [], async (q) => {
        await this.ensureGroupRoles(q, db);
        await q(`REASSIGN OWNED BY ${quoteIdent(user)} TO ${quoteIdent(groupRoles(db).owner)}`);
        await q(`DROP OWNED BY ${quoteIdent(user)}`);
      });
    }
    await this.withAdmin(infra, [], (q) => q(`DROP ROLE IF EXISTS ${quoteIdent(user)}`));
  }

  async setPassword(infra: InfraTarget, ref: UserRef, password: string): Promise<void> {
    this.databaseName(ref.database);
    const user = this.userName(ref.user);
    await this.withAdmin(infra, [password], async (q) => {
      if (!(await this.findRole(q, user, infra)))
        throw new EngineCommandError(this.type, `role ${user} does not exist`);
      await q(`ALTER ROLE ${quoteIdent(user)} PASSWORD ${passwordSql(password)}`);
    });
  }

  async revokeAccess(infra: InfraTarget, ref: UserRef): Promise<void> {
    this.databaseName(ref.database);
    const user = this.userName(ref.user);
    await this.withAdmin(infra, [], async (q) => {
      if (!(await this.findRole(q, user, infra))) return;
      // NOLOGIN alone leaves open sessions alive: they are ended too.
      await q(
        `ALTER ROLE ${quoteIdent(user)} NOLOGIN PASSWORD ${passwordSql(randomBytes(32).toString('base64url'))}`,
      );
      await this.terminateSessions(q, user);
    });
  }

  /**
   * The data, not the files: every table and materialized view outside the system schemas
   * with its indexes and TOAST (pg_total_relation_size), plus the large objects' heap. An
   * empty database measures 0 (pg_database_size says 7-8 MB: the system catalogs), so a
   * plan's size limit means the tenant's own data. Read inside the database (a short
   * connection as the admin). DELETE frees space only once VACUUM (autovacuum) ran;
   * TRUNCATE and DROP at once.
   */
  /**
   * The tables' size, read inside the database. When the database is at its CONNECTION
   * LIMIT (a non-superuser admin counts in it: a tenant holding every connection would
   * escape the size limit), an estimate from the maintenance database instead: the
   * database's size less an empty one's (`template1`, which CREATE DATABASE copies).
   */
  async usedSize(infra: InfraTarget, database: string): Promise<number> {
    const db = this.databaseName(database);
    const estimate = () =>
      this.withAdmin(infra, [], async (q) => {
        const { rows } = await q<{ size: string }>(
          `SELECT GREATEST(pg_database_size($1) - pg_database_size('template1'), 0)::text AS size`,
          [db],
        );
        return Number(rows[0].size);
      });
    return this.inDatabase(
      infra,
      db,
      [],
      async (q) => {
        const { rows } = await q<{ size: string }>(
          `SELECT (COALESCE(SUM(pg_total_relation_size(c.oid)), 0)
                   + pg_relation_size('pg_catalog.pg_largeobject'))::text AS size
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'`,
        );
        return Number(rows[0].size);
      },
      estimate,
    );
  }

  /**
   * The database, or any of its group roles: roles are server-wide and outlive a database
   * dropped by hand, and a create would take them over with their members.
   */
  async databaseExists(infra: InfraTarget, database: string): Promise<boolean> {
    const db = this.databaseName(database);
    return this.withAdmin(infra, [], async (q) => {
      const { rows } = await q<{ taken: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)
             OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ANY($2)) AS taken`,
        [db, Object.values(groupRoles(db))],
      );
      return rows[0].taken;
    });
  }

  async userExists(infra: InfraTarget, user: string): Promise<boolean> {
    const name = this.userName(user);
    return this.withAdmin(infra, [], async (q) => {
      const { rowCount } = await q('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      return rowCount === 1;
    });
  }

  async listDatabases(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (q) => {
      const { rows } = await q<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname',
      );
      return rows
        .map((r) => r.datname)
        .filter((name) => this.isManageableName(name) && !this.reservedNames.includes(name));
    });
  }

  async listUsers(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (q) => {
      const { rows } = await q<{ rolname: string }>(
        "SELECT rolname FROM pg_roles WHERE NOT rolsuper AND rolname !~ '^pg_' AND rolname <> current_user ORDER BY rolname",
      );
      // Group roles (`<db>:owner`...) fail the name rule and drop out here.
      return rows.map((r) => r.rolname).filter((name) => this.isManageableName(name));
    });
  }

  /**
   * Trust authentication: a login as the admin with a wrong password is tried; accepted, it
   * means pg_hba.conf trusts this client. Else the `host` trust rules of pg_hba.conf are
   * read, when the admin may (superusers only, by default).
   */
  /**
   * Trust lines of pg_hba.conf, read as the admin. Only where the admin may not read them
   * (or cannot log in) is a login with a wrong password tried: the server logs it as a
   * failed login, which fail2ban or an account lockout may punish.
   */
  async securityWarnings(infra: InfraTarget): Promise<string[]> {
    const rules = await this.withAdmin(infra, [], async (q) => {
      const { rows } = await q<{ line_number: number; address: string | null }>(
        "SELECT line_number, address FROM pg_hba_file_rules WHERE auth_method = 'trust' AND type LIKE 'host%' AND error IS NULL ORDER BY line_number",
      );
      return rows;
    }).catch((error: unknown) => {
      // Not allowed to read pg_hba.conf, or no admin login: ask the server itself.
      if (error instanceof EngineCommandError || error instanceof EngineUnavailableError) {
        return null;
      }
      throw error;
    });
    if (rules === null) {
      if (!(await this.acceptsWrongPassword(infra))) return [];
      return [
        `PostgreSQL accepts a login as ${infra.adminUser} without its password (trust authentication in pg_hba.conf): anyone who reaches ${infra.addresses[0]} can log in as any user, the admin included.`,
      ];
    }
    return rules.map(
      (rule) =>
        `PostgreSQL trusts connections from ${rule.address ?? 'any address'} (pg_hba.conf line ${rule.line_number}): they log in without a password.`,
    );
  }

  async close(): Promise<void> {
    await this.pools.closeAll();
  }

  // --- internals -------------------------------------------------------------------------

  /** The role, refusing superusers and the infra's admin: a credential must never take them over. */
  private async findRole(q: Query, user: string, infra: InfraTarget): Promise<boolean> {
    const { rows } = await q<{ rolsuper: boolean }>(
      'SELECT rolsuper FROM pg_roles WHERE rolname = $1',
      [user],
    );
    if (!rows.length) return false;
    if (rows[0].rolsuper || user === infra.adminUser) {
      throw new EngineCommandError(
        this.type,
        `role ${user} is a superuser or the infra admin; dbaas does not manage it`,
      );
    }
    return true;
  }

  /**
   * Membership of exactly one group: the privileges' own, or while writes are blocked the
   * owner's or read-write's writesBlockedRoles (read-only keeps its group). Owners act as the
   * owner group inside the database (so their tables are shared), unless blocked.
   */
  private async setMemberships(
    q: Query,
    db: string,
    user: string,
    privileges: Privileges,
    blocked: boolean,
  ): Promise<void> {
    const groups = groupRoles(db);
    const blockedRoles = writesBlockedRoles(db);
    const wanted =
      blocked && privileges !== 'read-only' ? blockedRoles[privileges] : groups[privileges];
    // The blocked roles exist only once a restriction happened.
    const { rows } = await q<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE rolname = ANY($1)',
      [Object.values(blockedRoles)],
    );
    for (const group of [...Object.values(groups), ...rows.map((r) => r.rolname)]) {
      const statement =
        group === wanted
          ? `GRANT ${quoteIdent(group)} TO ${quoteIdent(user)}`
          : `REVOKE ${quoteIdent(group)} FROM ${quoteIdent(user)}`;
      await q(statement);
    }
    if (privileges === 'owner' && !blocked) {
      await q(
        `ALTER ROLE ${quoteIdent(user)} IN DATABASE ${quoteIdent(db)} SET role = ${quoteLiteral(groups.owner)}`,
      );
    } else {
      await q(`ALTER ROLE ${quoteIdent(user)} IN DATABASE ${quoteIdent(db)} RESET role`);
    }
  }

  /**
   * restrictWrites / allowWrites: the groups of the owner and read-write users, then their
   * open sessions end (read-only users are left alone).
   */
  private async changeMemberships(
    infra: InfraTarget,
    db: string,
    users: UserAccess[],
    blocked: boolean,
  ): Promise<void> {
    await this.withAdmin(infra, [], async (q) => {
      for (const { user, privileges } of users) {
        const name = this.userName(user);
        // Read-only credentials never write: nothing changes, their sessions go on.
        if (this.checkPrivileges(privileges) === 'read-only') continue;
        if (!(await this.findRole(q, name, infra))) continue;
        await this.setMemberships(q, db, name, privileges, blocked);
        // A session already acting as `<db>:owner` keeps its rights: it must log in again.
        await this.terminateSessions(q, name);
      }
    });
  }

  /**
   * Inside the database: what the writing users (owner, read-write) own themselves goes to
   * the owner group, as dropUser does. Tables and schemas an owner made as itself (`SET ROLE
   * NONE`, then CREATE) would otherwise keep every right under a restriction: an owner
   * bypasses grants. Missing users are skipped.
   */
  private async reassignOwned(q: Query, db: string, users: UserAccess[]): Promise<void> {
    const owner = quoteIdent(groupRoles(db).owner);
    for (const { user, privileges } of users) {
      if (this.checkPrivileges(privileges) === 'read-only') continue;
      const name = this.userName(user);
      const { rowCount } = await q('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      if (rowCount) await q(`REASSIGN OWNED BY ${quoteIdent(name)} TO ${owner}`);
    }
  }

  private async ensureWritesBlockedRoles(q: Query, db: string): Promise<void> {
    for (const role of Object.values(writesBlockedRoles(db))) {
      const { rowCount } = await q('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (!rowCount) await ignoreCode(q(`CREATE ROLE ${quoteIdent(role)} NOLOGIN`), '42710');
      await q(`GRANT CONNECT ON DATABASE ${quoteIdent(db)} TO ${quoteIdent(role)}`);
    }
  }

  /**
   * Inside the database: the writesBlockedRoles may read and delete (owners: and truncate)
   * every table of the owner group's schemas. No tables appear while writes are blocked
   * (nobody may CREATE), so a grant at restriction time covers them all.
   */
  private async grantWritesBlocked(q: Query, db: string): Promise<void> {
    const roles = writesBlockedRoles(db);
    const [owner, rw] = [roles.owner, roles['read-write']].map(quoteIdent);
    const { rows } = await q<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY nspname',
      [groupRoles(db).owner],
    );
    for (const { nspname } of rows) {
      const schema = quoteIdent(nspname);
      await q(`GRANT USAGE ON SCHEMA ${schema} TO ${owner}, ${rw}`);
      await q(`GRANT SELECT, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA ${schema} TO ${owner}`);
      await q(`GRANT SELECT, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${rw}`);
    }
    await this.largeObjectCreation(q, 'REVOKE');
  }

  /**
   * Any role may create large objects (they count in usedSize): while writes are blocked,
   * the functions that create them are not executable in the database. They belong to the
   * bootstrap superuser: an admin that is not a superuser cannot change them, and this gap
   * stays open (docs/api.md).
   */
  private async largeObjectCreation(q: Query, change: 'GRANT' | 'REVOKE'): Promise<void> {
    const { rows } = await q<{ rolsuper: boolean }>(
      'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
    );
    if (!rows[0]?.rolsuper) return;
    const functions = 'lo_creat(integer), lo_create(oid), lo_from_bytea(oid, bytea)';
    const direction = change === 'GRANT' ? 'TO' : 'FROM';
    await q(`${change} EXECUTE ON FUNCTION ${functions} ${direction} PUBLIC`);
  }

  private async ensureGroupRoles(q: Query, db: string): Promise<void> {
    const groups = Object.values(groupRoles(db));
    const { rows } = await q<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE rolname = ANY($1)',
      [groups],
    );
    const existing = new Set(rows.map((r) => r.rolname));
    for (const group of groups.filter((g) => !existing.has(g))) {
      await ignoreCode(q(`CREATE ROLE ${quoteIdent(group)} NOLOGIN`), '42710');
    }
    // A non-superuser admin (CREATEDB + CREATEROLE) must be a member of the owner group to
    // create the database for it and to set the group's default privileges.
    const { rows: me } = await q<{ rolsuper: boolean }>(
      'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
    );
    if (!me[0]?.rolsuper) await q(`GRANT ${quoteIdent(groupRoles(db).owner)} TO CURRENT_USER`);
  }

  /** Schema ownership and grants inside the database; every statement is idempotent. */
  private async prepareSchema(q: Query, db: string): Promise<void> {
    const { owner, 'read-write': rw, 'read-only': ro } = groupRoles(db);
    const [o, w, r] = [owner, rw, ro].map(quoteIdent);
    await q(`ALTER SCHEMA public OWNER TO ${o}`);
    // Before PostgreSQL 15 every role could create tables in public.
    await q('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await q(`GRANT USAGE ON SCHEMA public TO ${w}, ${r}`);
    await q(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${w}`);
    await q(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${w}`);
    await q(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${r}`);
    await q(`GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
    // Without IN SCHEMA: also covers schemas the owners create later.
    await q(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} GRANT USAGE ON SCHEMAS TO ${w}, ${r}`);
    await q(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${w}`,
    );
    await q(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${w}`,
    );
    await q(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} GRANT SELECT ON TABLES TO ${r}`);
    await q(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} GRANT SELECT ON SEQUENCES TO ${r}`);
  }

  private async terminateSessions(q: Query, user: string): Promise<void> {
    // The timeout makes the call wait until the backends are really gone.
    await q(
      'SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()',
      [user],
    );
  }

  private connectionConfig(infra: InfraTarget, database: string) {
    const { host, port } = parseAddress(infra.addresses[0] ?? '', this.defaultPort);
    return {
      host,
      port,
      user: infra.adminUser,
      password: infra.adminPassword,
      database,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: COMMAND_TIMEOUT_MS,
      lock_timeout: COMMAND_TIMEOUT_MS,
      // Client-side bound too, for a server that stops answering altogether.
      query_timeout: COMMAND_TIMEOUT_MS + 2_000,
      application_name: 'dbaas',
    };
  }

  protected async acquireAdmin(infra: InfraTarget): Promise<AdminSession<Query>> {
    const client: PoolClient = await this.pools.get(infra).connect();
    return {
      admin: client.query.bind(client) as Query,
      // A connection that failed as unavailable is broken: the pool drops it.
      release: (failure) =>
        client.release(this.isUnavailable(failure) ? (failure as Error) : undefined),
    };
  }

  /** A separate connection as the admin with a random password; true if the server lets it in. */
  private async acceptsWrongPassword(infra: InfraTarget): Promise<boolean> {
    const wrong = randomBytes(24).toString('base64url');
    const client = new Client({
      ...this.connectionConfig(infra, ADMIN_DATABASE),
      password: wrong,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return true;
    } catch (error) {
      // 28P01 invalid password, 28000 no pg_hba.conf entry / other method: protected.
      if (/^28/.test(String((error as { code?: string }).code ?? ''))) return false;
      throw this.translate(infra, error, [infra.adminPassword, wrong]);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** A short-lived connection to the database itself, as the admin (closed at once). */
  /**
   * `work` on a connection of its own inside the database. `atConnectionLimit`: what to do
   * instead when the database refuses the connection for its CONNECTION LIMIT (53300),
   * else that is an EngineUnavailableError.
   */
  private async inDatabase<T>(
    infra: InfraTarget,
    database: string,
    secrets: string[],
    work: (q: Query) => Promise<T>,
    atConnectionLimit?: () => Promise<T>,
  ): Promise<T> {
    const allSecrets = [infra.adminPassword, ...secrets];
    const client = new Client(this.connectionConfig(infra, database));
    client.on('error', () => undefined);
    let connected = false;
    try {
      await client.connect();
      connected = true;
      return await work(client.query.bind(client) as Query);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (!connected && atConnectionLimit && code === TOO_MANY_CONNECTIONS) {
        await client.end().catch(() => undefined);
        return atConnectionLimit();
      }
      throw this.translate(infra, error, allSecrets);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  protected isUnavailable(error: unknown): boolean {
    return isUnavailable(error);
  }
}

/** PostgreSQL's `too many connections` (a database's or a role's CONNECTION LIMIT, or the server's). */
const TOO_MANY_CONNECTIONS = '53300';

function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (NETWORK_ERROR_CODES.has(code)) return true;
    // 08: connection exception, 53: insufficient resources (too many connections),
    // 57P: server shutting down / not accepting, 57014: statement timeout,
    // 28: the admin's own login was refused.
    if (/^(08|53|57P|28)/.test(code) || code === '57014') return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /timeout|Connection terminated|connection.*(closed|ended)/i.test(message);
}

/** `ALTER DATABASE ... CONNECTION LIMIT n`; 0 (none) is PostgreSQL's -1. */
function connectionLimitSql(db: string, limits: DatabaseLimits): string {
  const limit = limits.maxConnections > 0 ? Math.trunc(limits.maxConnections) : -1;
  return `ALTER DATABASE ${quoteIdent(db)} CONNECTION LIMIT ${limit}`;
}

async function ignoreCode<T>(promise: Promise<T>, code: string): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if ((error as { code?: string }).code === code) return undefined;
    throw error;
  }
}
