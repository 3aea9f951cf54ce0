import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client } from 'pg';
import { assertPlainName, DumpTarget, DumpTool, holdErrors, RestoreOptions } from './dump-tool';
import {
  DEBIAN_POSTGRESQL_ROOT,
  majorOfVersionNum,
  postgresClientDir,
} from './postgres-client-dir';
import { runTool } from './run-tool';

/**
 * PostgreSQL: `pg_dump --format=custom` and `pg_restore` of the server's major version.
 * The connection goes through libpq's PG* variables (the password in PGPASSWORD), so no
 * name or password is ever parsed from the command line. A restore is one transaction:
 * cut or refused, it leaves the database as it was.
 */
export class PostgresDumpTool implements DumpTool {
  constructor(private readonly clientRoot = DEBIAN_POSTGRESQL_ROOT) {}

  async dump(target: DumpTarget, database: string, out: Writable): Promise<void> {
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
    target: DumpTarget,
    database: string,
    input: Readable,
    options: RestoreOptions = {},
  ): Promise<void> {
    holdErrors(input);
    const bin = await this.clientFor(target, database);
    const args = [
      '--no-password',
      '--single-transaction',
      '--exit-on-error',
      '--clean',
      '--if-exists',
      // The database comes from PGDATABASE; `--dbname` is only what makes pg_restore connect.
      `--dbname=dbname=${quoteConninfo(database)}`,
    ];
    if (options.owner)
      args.push('--no-owner', '--no-acl', `--role=${assertPlainName(options.owner)}`);
    await runTool({
      name: 'pg_restore',
      command: join(bin, 'pg_restore'),
      args,
      env: libpqEnv(target, database),
      secrets: [target.adminPassword],
      input,
    });
  }

  /** The client folder for this server's major version. */
  async clientFor(target: DumpTarget, database: string): Promise<string> {
    const client = new Client({
      host: target.host,
      port: target.port,
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

function libpqEnv(target: DumpTarget, database: string): Record<string, string> {
  return {
    PGHOST: target.host,
    PGPORT: String(target.port),
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

/** A conninfo value in single quotes, with `\` and `'` escaped. */
function quoteConninfo(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
