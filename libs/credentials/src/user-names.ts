import { createHash } from 'node:crypto';
import { nameProblem, normalizeName } from '@dbaas/core';

/**
 * Logins that belong to the engine or its administrators. A credential with one of these
 * names would let `createUser` (which converges on an existing user) take over the account.
 */
const RESERVED_USERS = new Set([
  'postgres',
  'root',
  'admin',
  'default',
  'mysql',
  'mariadb',
  'public',
  'replicator',
  'replication',
]);
const RESERVED_PREFIXES = ['pg_', 'mysql_', 'mariadb_', 'system_'];

/** Normalizes a user name as database names are, or returns why it cannot be used. */
export function checkUserName(
  raw: string,
  maxLength: number,
  adminUser: string,
): { name: string; problem: string | null } {
  const name = normalizeName(raw);
  const problem =
    nameProblem(name, maxLength) ??
    (RESERVED_USERS.has(name) ||
    name === adminUser.toLowerCase() ||
    RESERVED_PREFIXES.some((p) => name.startsWith(p))
      ? `"${name}" is reserved by the engine`
      : null);
  return { name, problem };
}

/**
 * `u_<database>`. Where the engine's user-name limit cuts it (MySQL's 32 characters against
 * database names of up to 40), the cut name ends in 6 hex digits of the database name's
 * SHA-256: two long names with a common start still get two users (a plain cut gave both
 * the same one, and the second create failed on it), and a database always gets the same.
 */
export function defaultUserName(database: string, maxLength: number): string {
  const full = `u_${database}`;
  if (full.length <= maxLength) return full;
  const tag = createHash('sha256').update(database).digest('hex').slice(0, 6);
  return `${full.slice(0, maxLength - tag.length - 1).replace(/_+$/, '')}_${tag}`;
}
