import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { Privileges } from '../engine-provider';

/** PostgreSQL identifier quoting (`"name"`, inner quotes doubled). */
export const quoteIdent = (name: string): string => escapeIdentifier(name);
/** A string literal safe under any `standard_conforming_strings` (pg uses `E'...'` when needed). */
export const quoteLiteral = (value: string): string => escapeLiteral(value);

/**
 * The NOLOGIN group roles that carry a database's privileges. Their names contain `:`,
 * which the dbaas name rule never produces, so they can never collide with a user
 * (a credential named `shop_owner` on database `shop` stays distinct from `shop:owner`).
 */
export function groupRoles(database: string): Record<Privileges, string> {
  return {
    owner: `${database}:owner`,
    'read-write': `${database}:rw`,
    'read-only': `${database}:ro`,
  };
}

/**
 * The NOLOGIN roles that carry what is left while a database is over its size limit: its
 * owner credentials are members of `<db>:rdt` (SELECT, DELETE, TRUNCATE on the owner
 * group's tables: TRUNCATE gives space back at once) and its read-write credentials of
 * `<db>:rd` (SELECT, DELETE), instead of their group. Made on the first restriction;
 * dropped with the database.
 */
export function writesBlockedRoles(database: string): Record<'owner' | 'read-write', string> {
  return { owner: `${database}:rdt`, 'read-write': `${database}:rd` };
}

/**
 * The password as a SCRAM-SHA-256 verifier, the form PostgreSQL stores. Sending the
 * verifier instead of the plaintext keeps the password out of server logs
 * (log_statement) and pg_stat_activity. Non-ASCII passwords would need SASLprep to hash
 * exactly as the server does, so they are sent as they are and hashed by the server.
 */
export function passwordSql(password: string): string {
  if (!/^[\x20-\x7e]*$/.test(password)) return quoteLiteral(password);
  const iterations = 4096;
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const verifier =
    `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}` +
    `$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
  return quoteLiteral(verifier);
}
