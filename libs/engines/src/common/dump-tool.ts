import { PassThrough, Readable, Writable } from 'node:stream';
import { InfraTarget } from '../engine-provider';
import { parseAddress } from './address';

export interface RestoreOptions {
  /**
   * PostgreSQL: the role the restored objects belong to (the database's owner role); they
   * are created under it, so its default privileges apply. Without it, objects keep the
   * owners and grants in the dump. Other engines have nothing to own.
   */
  owner?: string;
}

/**
 * An engine's own dump and restore of one database, as byte streams, reached through the
 * engine's provider (`provider.dumpTool`). The target is the infra's admin login, the same
 * InfraTarget every provider method takes (`InfraAccess.connect(id)` gives `{ provider,
 * target }`):
 *
 *     const { provider, target } = await infraAccess.connect(infraId);
 *     await provider.dumpTool.dump(target, 'shop', out);
 *     await provider.dumpTool.restore(target, 'shop', input);
 *
 * `dump` ends `out` only after a whole dump; on any failure it destroys `out` with the
 * error, so nothing downstream can take a partial dump for a complete one.
 *
 * `restore` makes the database exactly the backup's data: what was created after the
 * backup (tables, keys, collections) is gone, what the backup holds is back. The database's
 * open sessions are ended first where the engine allows it (PostgreSQL, MariaDB, MongoDB;
 * Redis has no sessions per prefix). The database must exist; its credentials, passwords
 * and grants are left as they are. When `input` fails (a corrupt backup), the tool is
 * killed before it could see an end of input.
 *
 * An interrupted restore (a failed input, a killed process, an engine gone mid-way):
 * - `atomicRestore` true (PostgreSQL): the database is left exactly as before; nothing is
 *   to be finished. Running the restore again is allowed.
 * - `atomicRestore` false (MariaDB, Redis, MongoDB): the database may be half restored (part
 *   of the old data is gone, part of the backup is in). To finish, run `restore` again
 *   from the same file: a restore starts by emptying the database, so it is idempotent.
 *   Check the whole file (its SHA-256) before a restore in place: a file found corrupt
 *   half-way leaves the database half restored with nothing to finish it from.
 */
export interface DumpTool {
  /** Whether a restore cut short leaves the database as it was (see above). */
  readonly atomicRestore: boolean;
  dump(target: InfraTarget, database: string, out: Writable): Promise<void>;
  restore(
    target: InfraTarget,
    database: string,
    input: Readable,
    options?: RestoreOptions,
  ): Promise<void>;
}

/**
 * An engine's dump or restore tool failed. The message has its exit status and the end of
 * its stderr, with the passwords it was given replaced by `[redacted]`.
 */
export class BackupToolError extends Error {
  override readonly name = 'BackupToolError';

  /** @param signal the signal that ended the tool, if one did (`SIGPIPE`: its reader left). */
  constructor(
    message: string,
    readonly signal?: NodeJS.Signals,
  ) {
    super(message);
  }
}

/**
 * A backup file that fails its checks: tampered, truncated, reordered, sealed with another
 * key, or not the file the backup record names. The message says which, never a secret.
 */
export class BackupCorruptError extends Error {
  override readonly name = 'BackupCorruptError';
}

/** The address the tools connect to: the infra's first one, as the admin pools do. */
export function adminAddress(
  target: InfraTarget,
  defaultPort: number,
): { host: string; port: number } {
  return parseAddress(target.addresses[0] ?? '', defaultPort);
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

/**
 * `prefix`, then everything `input` sends: what a restore tool reads when statements must
 * run before the backup's own (emptying the database). An error of `input` destroys the
 * result with it (the tool is killed without seeing an end); the result closed early (the
 * tool failed) destroys `input`.
 */
export function withPrefix(prefix: string, input: Readable): Readable {
  const combined = new PassThrough();
  holdErrors(combined);
  holdErrors(input);
  combined.write(prefix);
  if (input.errored) combined.destroy(input.errored);
  input.once('error', (error) => combined.destroy(error));
  combined.once('close', () => {
    if (!input.readableEnded) input.destroy();
  });
  input.pipe(combined);
  return combined;
}
