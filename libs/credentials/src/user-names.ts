import { createHash } from 'node:crypto';
import { nameProblem, normalizeName } from '@dbaas/core';
import type { EngineProvider } from '@dbaas/engines';

/** What a user name is checked against: the engine's limit and its reserved logins. */
export type UserNameRules = Pick<
  EngineProvider,
  'userNameMaxLength' | 'reservedUserNames' | 'reservedUserPrefixes'
>;

/**
 * Normalizes a user name as database names are, or returns why it cannot be used: too long
 * for the engine, or one of the engine's own logins (a credential with such a name would let
 * `createUser`, which converges on an existing user, take the account over), or the infra's
 * admin.
 */
export function checkUserName(
  raw: string,
  engine: UserNameRules,
  adminUser: string,
): { name: string; problem: string | null } {
  const name = normalizeName(raw);
  const problem =
    nameProblem(name, engine.userNameMaxLength) ??
    (engine.reservedUserNames.includes(name) ||
    name === adminUser.toLowerCase() ||
    engine.reservedUserPrefixes.some((p) => name.startsWith(p))
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
