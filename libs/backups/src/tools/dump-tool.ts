import { Readable, Writable } from 'node:stream';

/** An engine server as the dump tools reach it: the admin login of its infra. */
export interface DumpTarget {
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
}

export interface RestoreOptions {
  /**
   * PostgreSQL: the role the restored objects belong to (the database's owner role); they
   * are created under it, so its default privileges apply. Without it, objects keep the
   * owners and grants in the dump. Other engines have nothing to own.
   */
  owner?: string;
}

/**
 * An engine's own dump and restore, as byte streams. `dump` ends `out` only after a whole
 * dump; on any failure it destroys `out` with the error, so nothing downstream can take a
 * partial dump for a complete one. `restore` reads `input` to its end into `database`; when
 * `input` fails (a corrupt backup), the tool is killed before it could see an end of input.
 */
export interface DumpTool {
  dump(target: DumpTarget, database: string, out: Writable): Promise<void>;
  restore(
    target: DumpTarget,
    database: string,
    input: Readable,
    options?: RestoreOptions,
  ): Promise<void>;
}

/**
 * Database names reach the tools as arguments: refuse anything an option parser or a
 * connection string could read as something else. The engine providers validate names
 * more strictly; this is the last line.
 */
export function assertPlainName(database: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_$-]{0,62}$/.test(database)) {
    throw new Error(`Not a database name the dump tools accept: ${JSON.stringify(database)}`);
  }
  return database;
}

/**
 * Keeps an error of `input` that happens before the tool starts reading it (while a
 * restore still connects) from crashing the process as an unhandled 'error' event: the
 * tool finds it in `input.errored` and fails with it.
 */
export function holdErrors(input: Readable): Readable {
  input.on('error', () => undefined);
  return input;
}
