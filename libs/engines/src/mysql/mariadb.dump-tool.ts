import { Readable, Writable } from 'node:stream';
import { createConnection, RowDataPacket } from 'mysql2/promise';
import { InfraTarget } from '../engine-provider';
import {
  adminAddress,
  assertPlainName,
  DumpTool,
  holdErrors,
  withPrefix,
} from '../common/dump-tool';
import { runTool } from '../common/run-tool';
import { quoteIdent, quoteLiteral } from './mysql-sql';

const MARIADB_DUMP = '/usr/bin/mariadb-dump';
const MARIADB = '/usr/bin/mariadb';
const DEFAULT_PORT = 3306;
/** What a database gets when it has to be made again (as MysqlProvider.createDatabase makes it). */
const DEFAULT_CHARSET = { charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' };

/**
 * MariaDB/MySQL: `mariadb-dump --single-transaction` (a consistent InnoDB snapshot without
 * locking writers) with routines, triggers and events, and `mariadb` to load it. The dump
 * names no database (no CREATE DATABASE or USE), so it loads into any name: a clone. The
 * password goes in MYSQL_PWD; `--no-defaults` keeps the machine's option files out.
 *
 * A restore ends the sessions using the database (KILL CONNECTION of every connection
 * whose current database it is), then drops and creates the database again with its
 * character set and collation, and loads the dump into it: what was made after the backup
 * is gone. The accounts' grants on the database are kept (MariaDB keeps them by name across
 * DROP DATABASE). MariaDB commits DDL as it goes, so a restore cut short leaves the
 * database half restored (`atomicRestore` false): run the restore again from the same file.
 */
export class MariaDbDumpTool implements DumpTool {
  readonly atomicRestore = false;

  constructor(private readonly binaries = { dump: MARIADB_DUMP, client: MARIADB }) {}

  async dump(target: InfraTarget, database: string, out: Writable): Promise<void> {
    try {
      await runTool({
        name: 'mariadb-dump',
        command: this.binaries.dump,
        args: [
          ...connectionArgs(target),
          '--single-transaction',
          '--routines',
          '--triggers',
          '--events',
          '--hex-blob',
          '--skip-dump-date',
          assertPlainName(database),
        ],
        env: { MYSQL_PWD: target.adminPassword },
        secrets: [target.adminPassword],
        output: out,
      });
    } catch (error) {
      out.destroy(error as Error);
      throw error;
    }
  }

  async restore(target: InfraTarget, database: string, input: Readable): Promise<void> {
    holdErrors(input);
    const db = quoteIdent(assertPlainName(database));
    const { charset, collation } = await this.endSessions(target, database);
    const prelude = [
      'SET SESSION lock_wait_timeout = 60;',
      `DROP DATABASE IF EXISTS ${db};`,
      `CREATE DATABASE ${db} CHARACTER SET ${quoteIdent(charset)} COLLATE ${quoteIdent(collation)};`,
      `USE ${db};`,
      '',
    ].join('\n');
    await runTool({
      name: 'mariadb',
      command: this.binaries.client,
      args: [...connectionArgs(target), '--connect-timeout=10', '--binary-mode'],
      env: { MYSQL_PWD: target.adminPassword },
      secrets: [target.adminPassword],
      input: withPrefix(prelude, input),
    });
  }

  /**
   * Kills every other connection whose current database is this one, and returns the
   * database's character set and collation (the defaults when it is missing: a restore
   * interrupted between its DROP and CREATE).
   */
  private async endSessions(
    target: InfraTarget,
    database: string,
  ): Promise<{ charset: string; collation: string }> {
    const connection = await createConnection({
      ...adminAddress(target, DEFAULT_PORT),
      user: target.adminUser,
      password: target.adminPassword,
      connectTimeout: 10_000,
    });
    try {
      const [sessions] = await connection.query<RowDataPacket[]>(
        'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [database],
      );
      for (const { id } of sessions) {
        // 1094: the connection ended meanwhile.
        await connection.query(`KILL CONNECTION ${Number(id)}`).catch((error: unknown) => {
          if ((error as { errno?: number }).errno !== 1094) throw error;
        });
      }
      const [found] = await connection.query<RowDataPacket[]>(
        `SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation
           FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${quoteLiteral(database)}`,
      );
      const row = found[0] as { charset: string; collation: string } | undefined;
      return row ? { charset: row.charset, collation: row.collation } : DEFAULT_CHARSET;
    } finally {
      await connection.end().catch(() => undefined);
    }
  }
}

function connectionArgs(target: InfraTarget): string[] {
  const { host, port } = adminAddress(target, DEFAULT_PORT);
  return [
    '--no-defaults', // must come first
    '--protocol=TCP',
    `--host=${host}`,
    `--port=${port}`,
    `--user=${target.adminUser}`,
    '--default-character-set=utf8mb4',
    '--max-allowed-packet=1G',
  ];
}
