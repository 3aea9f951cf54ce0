import { randomBytes } from 'node:crypto';
import { createConnection, createPool, Pool, RowDataPacket } from 'mysql2/promise';
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
import { account, escapeLike, grantDatabase, quoteIdent, quoteLiteral } from './mysql-sql';
import { DumpTool } from '../common/dump-tool';
import { MariaDbDumpTool } from './mariadb.dump-tool';

const MYSQL_IDENTIFIER_MAX_LENGTH = 64;

const GRANTS: Record<Privileges, string> = {
  owner: 'ALL PRIVILEGES',
  // DML plus what applications routinely need to run it (temp tables, locks, routines).
  'read-write':
    'SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, SHOW VIEW',
  // No EXECUTE: a SQL SECURITY DEFINER routine could write on the reader's behalf.
  'read-only': 'SELECT, SHOW VIEW',
};

/**
 * What a database over its size limit takes away (SPEC §10), per privileges: every way to
 * add data (INSERT, UPDATE, CREATE, ALTER, and INDEX, which grows the files). SELECT,
 * DELETE and (owners) DROP stay: TRUNCATE and DROP TABLE give the file space back at once.
 */
const BLOCKED_WHEN_OVER: Record<Privileges, string | null> = {
  owner: 'INSERT, UPDATE, CREATE, ALTER, INDEX',
  'read-write': 'INSERT, UPDATE',
  'read-only': null,
};

const UNAVAILABLE_CODES = new Set([
  ...NETWORK_ERROR_CODES,
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_HOST_IS_BLOCKED',
  'ER_HOST_NOT_PRIVILEGED',
  'ER_TOO_MANY_USER_CONNECTIONS',
]);
/** Errors of a pooled connection that died while idle (server restarted): worth one retry. */
const STALE_CONNECTION_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE']);

type Row = RowDataPacket & Record<string, unknown>;
type Query = (sql: string, values?: unknown[]) => Promise<Row[]>;

/**
 * MySQL and MariaDB (tested on MariaDB 10.11). Statements go through `query()`, never
 * `execute()`: prepared statements reject account names (`?@?`) and most DDL.
 * Users are created as `'user'@'%'`; a database is a schema with database-level grants.
 * One pool per infra (at most 4 connections) on the first address.
 */
export class MysqlProvider extends BaseEngineProvider<Query> {
  static readonly type = 'mysql';
  readonly displayName = 'MySQL/MariaDB';
  readonly catalogTags = ['mysql', 'mariadb', 'relational', 'sql'];
  readonly defaultPort = 3306;
  readonly userNameMaxLength = 32;
  protected readonly databaseNameMaxLength = MYSQL_IDENTIFIER_MAX_LENGTH;
  readonly reservedNames: readonly string[] = [
    'mysql',
    'information_schema',
    'performance_schema',
    'sys',
  ];
  /** The server's own accounts (`mysql.sys`, `mariadb.sys`, ...) and the usual admin names. */
  readonly reservedUserNames: readonly string[] = [
    'root',
    'mysql',
    'mariadb',
    'replicator',
    'replication',
  ];
  readonly reservedUserPrefixes: readonly string[] = ['mysql_', 'mariadb_'];
  /** Accounts dbaas must never take over even if a credential is named like them. */
  protected override readonly protectedUsers: readonly string[] = ['root', 'mysql', 'mariadb'];
  readonly dumpTool: DumpTool = new MariaDbDumpTool();
  readonly listsEveryDatabase = true;
  /** MAX_USER_CONNECTIONS of each login of the database. */
  override readonly enforcesConnectionLimit = true;
  protected readonly urlScheme = 'mysql';
  protected readonly multiHostUrl = false;
  protected override readonly jdbcSubprotocol = 'mysql';

  private readonly pools = new InfraPools<Pool>(
    (infra) => {
      const { host, port } = parseAddress(infra.addresses[0] ?? '', this.defaultPort);
      const pool = createPool({
        host,
        port,
        user: infra.adminUser,
        password: infra.adminPassword,
        connectTimeout: CONNECT_TIMEOUT_MS,
        connectionLimit: 4,
        maxIdle: 2,
        idleTimeout: 10_000,
        enableKeepAlive: true,
        multipleStatements: false,
      });
      // DROP DATABASE waits for metadata locks; the server default is a year.
      pool.pool.on('connection', (conn) => {
        conn.query(`SET SESSION lock_wait_timeout = ${COMMAND_TIMEOUT_MS / 1000}`, () => undefined);
      });
      return pool;
    },
    (pool) => pool.end(),
  );

  async ping(infra: InfraTarget): Promise<{ version: string }> {
    return this.withAdmin(infra, [], async (q) => {
      const [row] = await q('SELECT VERSION() AS version');
      return { version: String(row.version) };
    });
  }

  async createDatabase(infra: InfraTarget, database: string): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], (q) =>
      q(
        `CREATE DATABASE IF NOT EXISTS ${quoteIdent(db)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
      ),
    );
  }

  async dropDatabase(infra: InfraTarget, database: string): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], async (q) => {
      // Accounts granted on this database keep their grants after DROP DATABASE: a later
      // database with the same name would inherit them. Their sessions end too.
      const grantees = await q('SELECT User AS user, Host AS host FROM mysql.db WHERE Db = ?', [
        escapeLike(db),
      ]);
      await this.killSessions(
        q,
        'USER',
        grantees.map((g) => String(g.user)),
      );
      await this.killSessions(q, 'DB', [db]);
      await q(`DROP DATABASE IF EXISTS ${quoteIdent(db)}`);
      for (const g of grantees) {
        await q(`REVOKE ALL PRIVILEGES ON ${grantDatabase(db)}.* FROM ?@?`, [g.user, g.host]);
      }
    });
  }

  async createUser(infra: InfraTarget, spec: UserSpec): Promise<void> {
    const db = this.databaseName(spec.database);
    const user = this.userName(spec.user);
    const grants = GRANTS[this.checkPrivileges(spec.privileges)];
    const password = quoteLiteral(spec.password);
    await this.withAdmin(infra, [spec.password], async (q) => {
      await this.assertManageable(q, infra, user);
      await q(`CREATE USER IF NOT EXISTS ${account(user)} IDENTIFIED BY ${password}`);
      await q(
        `ALTER USER ${account(user)} IDENTIFIED BY ${password}${connectionLimit(spec.maxConnections)} ACCOUNT UNLOCK`,
      );
      // From scratch, so a privilege change (owner → read-only) really takes rights away.
      await q(`REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${account(user)}`);
      await q(`GRANT ${grants} ON ${grantDatabase(db)}.* TO ${account(user)}`);
      const blocked = BLOCKED_WHEN_OVER[spec.privileges];
      if (spec.writesBlocked && blocked) {
        await q(`REVOKE ${blocked} ON ${grantDatabase(db)}.* FROM ${account(user)}`);
      }
    });
  }

  /**
   * REVOKE of BLOCKED_WHEN_OVER. The users' open sessions are ended: a session keeps the
   * database-level rights it read when it chose its database.
   */
  async restrictWrites(infra: InfraTarget, database: string, users: UserAccess[]): Promise<void> {
    await this.changeGrants(infra, database, users, (db, user, privileges) => {
      const blocked = BLOCKED_WHEN_OVER[privileges];
      return blocked && `REVOKE ${blocked} ON ${grantDatabase(db)}.* FROM ${account(user)}`;
    });
  }

  /** The privileges' grants again (GRANT adds to what is left); open sessions end as above. */
  async allowWrites(infra: InfraTarget, database: string, users: UserAccess[]): Promise<void> {
    await this.changeGrants(infra, database, users, (db, user, privileges) =>
      privileges === 'read-only'
        ? null // never lost anything
        : `GRANT ${GRANTS[privileges]} ON ${grantDatabase(db)}.* TO ${account(user)}`,
    );
  }

  async dropUser(infra: InfraTarget, ref: UserRef): Promise<void> {
    this.databaseName(ref.database);
    const user = this.userName(ref.user);
    await this.withAdmin(infra, [], async (q) => {
      if (!(await this.assertManageable(q, infra, user))) return;
      // Locked first so that no new session slips in between the kill and the drop.
      await q(`ALTER USER ${account(user)} ACCOUNT LOCK`);
      await this.killSessions(q, 'USER', [user]);
      await q(`DROP USER IF EXISTS ${account(user)}`);
    });
  }

  async setPassword(
    infra: InfraTarget,
    ref: UserRef,
    password: string,
    limits?: DatabaseLimits,
  ): Promise<void> {
    this.databaseName(ref.database);
    const user = this.userName(ref.user);
    await this.withAdmin(infra, [password], async (q) => {
      if (!(await this.assertManageable(q, infra, user))) {
        throw new EngineCommandError(this.type, `user ${user} does not exist`);
      }
      await q(
        `ALTER USER ${account(user)} IDENTIFIED BY ${quoteLiteral(password)}${connectionLimit(limits?.maxConnections)}`,
      );
    });
  }

  /**
   * MAX_USER_CONNECTIONS of each login (those missing on the engine are skipped): the plan
   * change in place.
   */
  override async applyLimits(
    infra: InfraTarget,
    database: string,
    users: readonly string[],
    limits: DatabaseLimits,
  ): Promise<void> {
    this.databaseName(database);
    await this.withAdmin(infra, [], async (q) => {
      for (const name of users) {
        const user = this.userName(name);
        if (!(await this.assertManageable(q, infra, user))) continue;
        await q(`ALTER USER ${account(user)}${connectionLimit(limits.maxConnections)}`);
      }
    });
  }

  async revokeAccess(infra: InfraTarget, ref: UserRef): Promise<void> {
    this.databaseName(ref.database);
    const user = this.userName(ref.user);
    await this.withAdmin(infra, [], async (q) => {
      if (!(await this.assertManageable(q, infra, user))) return;
      const random = quoteLiteral(randomBytes(32).toString('base64url'));
      await q(`ALTER USER ${account(user)} IDENTIFIED BY ${random} ACCOUNT LOCK`);
      // ACCOUNT LOCK only refuses new logins.
      await this.killSessions(q, 'USER', [user]);
    });
  }

  /**
   * The InnoDB tablespace files of the database (current, unlike information_schema.TABLES,
   * whose sizes are stale until ANALYZE), plus the table sizes of other storage engines.
   */
  async usedSize(infra: InfraTarget, database: string): Promise<number> {
    const db = this.databaseName(database);
    return this.withAdmin(infra, [], async (q) => {
      const schemas = await q('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
        db,
      ]);
      if (!schemas.length) throw new EngineCommandError(this.type, `database ${db} does not exist`);
      const pattern = `${escapeLike(db)}/%`;
      let innodb: Row[];
      try {
        // MariaDB (and MySQL 5.7)
        innodb = await q(
          'SELECT COALESCE(SUM(FILE_SIZE), 0) AS size FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME LIKE ?',
          [pattern],
        );
      } catch (error) {
        if ((error as { code?: string }).code !== 'ER_UNKNOWN_TABLE') throw error;
        // MySQL 8
        innodb = await q(
          'SELECT COALESCE(SUM(FILE_SIZE), 0) AS size FROM information_schema.INNODB_TABLESPACES WHERE NAME LIKE ?',
          [pattern],
        );
      }
      const others = await q(
        "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS size FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND ENGINE <> 'InnoDB'",
        [db],
      );
      return Number(innodb[0].size) + Number(others[0].size);
    });
  }

  async databaseExists(infra: InfraTarget, database: string): Promise<boolean> {
    const db = this.databaseName(database);
    return this.withAdmin(infra, [], async (q) => {
      const rows = await q('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db]);
      return rows.length > 0;
    });
  }

  /** Any account of that user name, whatever its host. */
  async userExists(infra: InfraTarget, user: string): Promise<boolean> {
    const name = this.userName(user);
    return this.withAdmin(infra, [], async (q) => {
      const rows = await q('SELECT 1 FROM mysql.user WHERE User = ? LIMIT 1', [name]);
      return rows.length > 0;
    });
  }

  async listDatabases(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (q) => {
      const rows = await q(
        'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME',
      );
      return rows
        .map((r) => String(r.name))
        .filter((name) => this.isManageableName(name) && !this.reservedNames.includes(name));
    });
  }

  async listUsers(infra: InfraTarget): Promise<string[]> {
    return this.withAdmin(infra, [], async (q) => {
      const rows = await q(
        "SELECT DISTINCT User AS user FROM mysql.user WHERE Host = '%' ORDER BY User",
      );
      return rows
        .map((r) => String(r.user))
        .filter(
          (name) =>
            this.isManageableName(name) &&
            name !== infra.adminUser &&
            !this.protectedUsers.includes(name),
        );
    });
  }

  /** An admin without a password: a login as the admin with an empty password is tried. */
  async securityWarnings(infra: InfraTarget): Promise<string[]> {
    const { host, port } = parseAddress(infra.addresses[0] ?? '', this.defaultPort);
    try {
      const connection = await createConnection({
        host,
        port,
        user: infra.adminUser,
        password: '',
        connectTimeout: CONNECT_TIMEOUT_MS,
      });
      await connection.end().catch(() => connection.destroy());
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_HOST_NOT_PRIVILEGED') return [];
      throw this.translate(infra, error, [infra.adminPassword]);
    }
    return [
      `The MySQL admin ${infra.adminUser} has no password: anyone who reaches ${infra.addresses[0]} can log in as ${infra.adminUser}.`,
    ];
  }

  async close(): Promise<void> {
    await this.pools.closeAll();
  }

  // --- internals -------------------------------------------------------------------------

  /**
   * One statement per existing user (missing ones are skipped), then the sessions of the
   * users it changed end; a user without a statement (read-only) is left alone.
   */
  private async changeGrants(
    infra: InfraTarget,
    database: string,
    users: UserAccess[],
    statement: (db: string, user: string, privileges: Privileges) => string | null,
  ): Promise<void> {
    const db = this.databaseName(database);
    await this.withAdmin(infra, [], async (q) => {
      const changed: string[] = [];
      for (const { user, privileges } of users) {
        const name = this.userName(user);
        const sql = statement(db, name, this.checkPrivileges(privileges));
        if (!(await this.assertManageable(q, infra, name))) continue;
        if (!sql) continue; // read-only: nothing changes, its sessions go on
        await q(sql);
        changed.push(name);
      }
      await this.killSessions(q, 'USER', changed);
    });
  }

  /** Whether the account exists; throws for the admin or a privileged account. */
  private async assertManageable(q: Query, infra: InfraTarget, user: string): Promise<boolean> {
    this.assertNotProtected(user, infra);
    const rows = await q(
      "SELECT Super_priv AS super FROM mysql.user WHERE User = ? AND Host = '%'",
      [user],
    );
    if (!rows.length) return false;
    if (rows[0].super === 'Y') {
      throw new EngineCommandError(
        this.type,
        `user ${user} has global privileges; dbaas does not manage it`,
      );
    }
    return true;
  }

  /**
   * KILL CONNECTION for every session of these users (or using these databases), then waits
   * (up to 3 s) until the server has let go of them, so callers can rely on it.
   */
  private async killSessions(q: Query, column: 'USER' | 'DB', values: string[]): Promise<void> {
    if (!values.length) return;
    const find = () =>
      q(
        `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ${column} IN (?) AND ID <> CONNECTION_ID()`,
        [values],
      );
    const deadline = Date.now() + 3_000;
    for (let sessions = await find(); sessions.length; sessions = await find()) {
      for (const { id } of sessions) {
        await q(`KILL CONNECTION ${Number(id)}`).catch((error) => {
          if ((error as { code?: string }).code !== 'ER_NO_SUCH_THREAD') throw error;
        });
      }
      if (Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Statements go to the pool one by one (no connection is held). mysql2 attaches the full
   * statement (password included) to its errors: withAdmin never rethrows them as they are.
   */
  protected async acquireAdmin(infra: InfraTarget): Promise<AdminSession<Query>> {
    const pool = this.pools.get(infra);
    const q: Query = async (sql, values) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const [rows] = await pool.query<Row[]>({ sql, values, timeout: COMMAND_TIMEOUT_MS });
          return rows;
        } catch (error) {
          const code = (error as { code?: string }).code ?? '';
          if (attempt === 1 && STALE_CONNECTION_CODES.has(code)) continue; // statements are idempotent
          throw error;
        }
      }
    };
    return { admin: q, release: () => undefined };
  }

  protected isUnavailable(error: unknown): boolean {
    return isUnavailable(error);
  }
}

/** ` WITH MAX_USER_CONNECTIONS n` (0 = none, MySQL's own meaning), or nothing when not given. */
function connectionLimit(maxConnections: number | undefined): string {
  if (maxConnections === undefined) return '';
  return ` WITH MAX_USER_CONNECTIONS ${Math.max(0, Math.trunc(maxConnections))}`;
}

function isUnavailable(error: unknown): boolean {
  const e = error as { code?: string; fatal?: boolean } | null;
  if (!e) return false;
  return UNAVAILABLE_CODES.has(e.code ?? '') || e.fatal === true;
}
