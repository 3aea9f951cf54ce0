import { Readable, Writable } from 'node:stream';
import { assertPlainName, DumpTarget, DumpTool, holdErrors } from './dump-tool';
import { runTool } from './run-tool';

const MARIADB_DUMP = '/usr/bin/mariadb-dump';
const MARIADB = '/usr/bin/mariadb';

/**
 * MariaDB/MySQL: `mariadb-dump --single-transaction` (a consistent InnoDB snapshot without
 * locking writers) with routines, triggers and events, and `mariadb` to load it. The dump
 * names no database (no CREATE DATABASE or USE), so it loads into any name: a clone. The
 * password goes in MYSQL_PWD; `--no-defaults` keeps the machine's option files out.
 * MariaDB commits DDL as it goes: a restore cut short leaves the tables it reached.
 */
export class MariaDbDumpTool implements DumpTool {
  constructor(private readonly binaries = { dump: MARIADB_DUMP, client: MARIADB }) {}

  async dump(target: DumpTarget, database: string, out: Writable): Promise<void> {
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

  async restore(target: DumpTarget, database: string, input: Readable): Promise<void> {
    await runTool({
      name: 'mariadb',
      command: this.binaries.client,
      args: [
        ...connectionArgs(target),
        '--connect-timeout=10',
        '--binary-mode',
        `--database=${assertPlainName(database)}`,
      ],
      env: { MYSQL_PWD: target.adminPassword },
      secrets: [target.adminPassword],
      input: holdErrors(input),
    });
  }
}

function connectionArgs(target: DumpTarget): string[] {
  return [
    '--no-defaults', // must come first
    '--protocol=TCP',
    `--host=${target.host}`,
    `--port=${target.port}`,
    `--user=${target.adminUser}`,
    '--default-character-set=utf8mb4',
    '--max-allowed-packet=1G',
  ];
}
