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

/** `u_<database>`, cut to the engine's user-name limit. */
export function defaultUserName(database: string, maxLength: number): string {
  return `u_${database}`.slice(0, maxLength).replace(/_+$/, '');
}
