import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Client } from 'pg';
import { InfraTarget } from '../engine-provider';
import {
  adminAddress,
  assertPlainName,
  BackupToolError,
  DumpTool,
  holdErrors,
  RestoreOptions,
} from '../common/dump-tool';
import { runTool } from '../common/run-tool';
import { withWorkFolder } from '../common/work-folder';
import {
  DEBIAN_POSTGRESQL_ROOT,
  majorOfVersionNum,
  postgresClientDir,
} from './postgres-client-dir';

const DEFAULT_PORT = 5432;
const MKFIFO = '/usr/bin/mkfifo';

/**
 * Sent before the backup's script, in the same transaction: ends the database's other
 * sessions (a non-superuser admin leaves the superusers' ones alone: it may not end them),
 * then empties the database: every schema but the system ones is dropped with what it
 * holds, and so are the large objects. `public` is created again with its owner and grants
 * (pg_dump assumes it exists and never creates it). Database-wide settings, the database's
 * grants, its default privileges and the roles' settings in it are left as they are: the
 * database itself stays.
 */
const EMPTY_DATABASE = `
SET client_min_messages = warning;
SELECT pg_terminate_backend(a.pid, 5000) FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
   AND (NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = a.usesysid AND r.rolsuper)
        OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user));
DO $restore$
DECLARE
  public_owner oid;
  public_acl aclitem[];
  schema_name name;
  grant_row record;
BEGIN
  SELECT nspowner, nspacl INTO public_owner, public_acl FROM pg_namespace WHERE nspname = 'public';
  FOR schema_name IN
    SELECT nspname FROM pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', schema_name);
  END LOOP;
  PERFORM lo_unlink(oid) FROM pg_largeobject_metadata;
  CREATE SCHEMA public;
  IF public_owner IS NOT NULL THEN
    EXECUTE format('ALTER SCHEMA public OWNER TO %s', public_owner::regrole);
  END IF;
  FOR grant_row IN
    SELECT grantee, privilege_type FROM aclexplode(public_acl) WHERE grantee <> public_owner
  LOOP
    EXECUTE format('GRANT %s ON SCHEMA public TO %s', grant_row.privilege_type,
      CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE grant_row.grantee::regrole::text END);
  END LOOP;
END
$restore$;
`;

/**
 * PostgreSQL: `pg_dump --format=custom` and `pg_restore` of the server's major version.
 * The connection goes through libpq's PG* variables (the password in PGPASSWORD), so no
 * name or password is ever parsed from the command line.
 *
 * A restore is one transaction, run by `psql`: BEGIN, end the database's sessions, empty
 * the database (EMPTY_DATABASE), then the backup's script (pg_restore turns the archive
 * into SQL, written into a named pipe in a private temporary folder that psql reads with
 * `\i`: the SQL never passes through this process). The script is pg_restore's
 * `--single-transaction` one: its last line, COMMIT, is written only once every entry was
 * restored; psql's own COMMIT after it is sent only once pg_restore exited 0. Cut, refused
 * or killed before that (this process included: pg_restore then reads a cut archive, and
 * psql an end of input before any COMMIT; the server rolls back), it leaves the database
 * exactly as it was (`atomicRestore`). pg_restore may stop before the archive's end (a
 * tail it does not need), so a caller that must know the whole file is intact checks it
 * first (BackupsService does). Sessions that connect during the restore wait for its
 * locks and then see the restored data.
 */
export class PostgresDumpTool implements DumpTool {
  readonly atomicRestore = true;

  constructor(private readonly clientRoot = DEBIAN_POSTGRESQL_ROOT) {}

  async dump(target: InfraTarget, database: string, out: Writable): Promise<void> {
    try {
      const bin = await this.clientFor(target, database);
      await runTool({
        name: 'pg_dump',
        command: join(bin, 'pg_dump'),
        args: ['--format=custom', '--no-password'],
        env: libpqEnv(target, database),
        secrets: [target.adminPassword],
        output: out,
      });
    } catch (error) {
      out.destroy(error as Error);
      throw error;
    }
  }

  async restore(
    target: InfraTarget,
    database: string,
    input: Readable,
    options: RestoreOptions = {},
  ): Promise<void> {
    holdErrors(input);
    const bin = await this.clientFor(target, database);
    // --single-transaction: without it pg_restore's script commits large objects in its own
    // BEGIN/COMMIT, which would commit psql's transaction half-way. With it, the script's
    // leading BEGIN is a warning in psql's transaction and its COMMIT, the script's last
    // line, is written only once every entry was restored; psql's own COMMIT is then a no-op.
    const args = ['--exit-on-error', '--single-transaction'];
    if (options.owner)
      args.push('--no-owner', '--no-acl', `--role=${assertPlainRole(options.owner)}`);
    // pg_restore writes the SQL into a named pipe that psql reads (`\i`): the SQL goes
    // from one tool to the other, never through this process. psql's own script, on its
    // stdin, is BEGIN, EMPTY_DATABASE, that `\i`, and COMMIT once pg_restore exited 0.
    await withWorkFolder('dbaas-restore', async (folder) => {
      const sqlPipe = join(folder, 'restore.sql');
      if (/['\\\n]/.test(sqlPipe)) throw new Error(`Temporary folder unusable in psql: ${sqlPipe}`);
      await runTool({
        name: 'mkfifo',
        command: MKFIFO,
        args: ['-m', '600', sqlPipe],
        env: {},
        secrets: [],
      });
      const script = new PassThrough();
      holdErrors(script);
      script.write(`BEGIN;\n${EMPTY_DATABASE}\n\\i '${sqlPipe}'\n`);
      const stopRestore = new AbortController();
      const toSql = runTool({
        name: 'pg_restore',
        command: join(bin, 'pg_restore'),
        args: [...args, `--file=${sqlPipe}`],
        env: libpqEnv(target, database),
        secrets: [target.adminPassword],
        input,
        signal: stopRestore.signal,
      }).then(
        () => void script.end('COMMIT;\n'),
        (error: Error) => {
          // No COMMIT: a broken pipe means psql opened the pipe and left it (it failed and
          // ends by itself, its own error says why); otherwise psql is killed, as it may
          // wait for a writer of the pipe that will never come.
          if (error instanceof BackupToolError && error.signal === 'SIGPIPE') script.end();
          else script.destroy(error);
          throw error;
        },
      );
      const run = runTool({
        name: 'psql',
        command: join(bin, 'psql'),
        args: ['--no-psqlrc', '--no-password', '--quiet', '--set=ON_ERROR_STOP=1', '--file=-'],
        env: libpqEnv(target, database),
        secrets: [target.adminPassword],
        input: script,
      }).catch((error: Error) => {
        stopRestore.abort(error); // pg_restore is killed: it may wait for a reader of the pipe
        throw error;
      });
      const [sql, ran] = await Promise.allSettled([toSql, run]);
      // pg_restore's failure says why (its input's, when that failed first), unless it died
      // of a broken pipe or was stopped because psql failed: then psql's says why.
      const psqlFirst = (reason: unknown) =>
        (reason instanceof BackupToolError && reason.signal === 'SIGPIPE') ||
        (ran.status === 'rejected' && reason === ran.reason);
      if (sql.status === 'rejected' && !psqlFirst(sql.reason)) throw sql.reason;
      if (ran.status === 'rejected') throw ran.reason;
      if (sql.status === 'rejected') throw sql.reason;
    });
  }

  /** The client folder for this server's major version. */
  async clientFor(target: InfraTarget, database: string): Promise<string> {
    const client = new Client({
      ...adminAddress(target, DEFAULT_PORT),
      user: target.adminUser,
      password: target.adminPassword,
      database: assertPlainName(database),
      connectionTimeoutMillis: 10_000,
    });
    await client.connect();
    try {
      const { rows } = await client.query<{ server_version_num: string }>(
        'SHOW server_version_num',
      );
      return postgresClientDir(this.clientRoot, majorOfVersionNum(rows[0].server_version_num));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** A role name as an argument: the group roles of dbaas (`shop:owner`) have a colon. */
function assertPlainRole(role: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_$:-]{0,62}$/.test(role)) {
    throw new Error(`Not a role name the dump tools accept: ${JSON.stringify(role)}`);
  }
  return role;
}

function libpqEnv(target: InfraTarget, database: string): Record<string, string> {
  const { host, port } = adminAddress(target, DEFAULT_PORT);
  return {
    PGHOST: host,
    PGPORT: String(port),
    PGUSER: target.adminUser,
    PGPASSWORD: target.adminPassword,
    PGDATABASE: assertPlainName(database),
    PGCONNECT_TIMEOUT: '10',
    PGAPPNAME: 'dbaas-backup',
    // No ~/.pgpass or service file of the API's user takes part.
    PGPASSFILE: '/dev/null',
    PGSERVICEFILE: '/dev/null',
  };
}
