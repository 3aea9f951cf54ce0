import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BackupToolError } from '../common/dump-tool';

/** Where Debian installs each major version's client (`postgresql-client-<major>`). */
export const DEBIAN_POSTGRESQL_ROOT = '/usr/lib/postgresql';

/**
 * The bin folder of the client for a server's major version: that version's own, else the
 * nearest newer one (pg_dump reads older servers; pg_restore reads older archives). An
 * older client refuses a newer server, so none is taken.
 */
export function postgresClientDir(root: string, serverMajor: number): string {
  const installed = (existsSync(root) ? readdirSync(root) : [])
    .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'pg_dump')))
    .map(Number)
    .filter((major) => major >= serverMajor)
    .sort((a, b) => a - b);
  if (installed.length === 0) {
    throw new BackupToolError(
      `No pg_dump for PostgreSQL ${serverMajor} under ${root}: install the Debian package postgresql-client-${serverMajor}`,
    );
  }
  return join(root, String(installed[0]), 'bin');
}

/** `SHOW server_version_num` (150020) → 15; (90624) → 9. */
export function majorOfVersionNum(versionNum: string): number {
  const num = Number(versionNum);
  if (!Number.isInteger(num) || num <= 0)
    throw new Error(`Not a server_version_num: ${versionNum}`);
  return Math.floor(num / 10000);
}
