import { createHash } from 'node:crypto';
import { Privileges } from '../engine-provider';

/** Escapes glob metacharacters for key patterns and SCAN MATCH (names are [a-z0-9_] anyway). */
export const escapeGlob = (value: string): string => value.replace(/[*?[\]\\^-]/g, '\\$&');

/** The key pattern of a dbaas database: every key starts with `name:`. */
export const keyPattern = (database: string): string => `${escapeGlob(database)}:*`;

/** A password as ACL SETUSER `#<sha256>`: the plaintext never reaches the server. */
export const passwordRule = (password: string): string =>
  `#${createHash('sha256').update(password).digest('hex')}`;

/**
 * Commands that reveal key or channel names outside the user's prefix: ACL key patterns
 * restrict what a command touches, not what SCAN/KEYS/RANDOMKEY list, nor PUBSUB CHANNELS.
 * (So an application cannot SCAN even its own prefix: the price of isolation on a shared
 * Redis.) DBSIZE counts everybody's keys.
 */
const NAME_LEAKS = ['-scan', '-keys', '-randomkey', '-dbsize', '-pubsub'];
/**
 * A dbaas database is the prefix in logical database 0: no way out of it (SELECT, MOVE,
 * COPY ... DB, SWAPDB, MIGRATE) and no way to wipe others (FLUSHDB/FLUSHALL are global).
 * FUNCTION LOAD/DELETE and SCRIPT FLUSH/KILL act on the server-wide function library,
 * script cache and running scripts.
 */
const ESCAPES = [
  '-select',
  '-swapdb',
  '-move',
  '-copy',
  '-migrate',
  '-flushdb',
  '-flushall',
  '-function',
  '-script|flush',
  '-script|kill',
];

/**
 * Command rules per privilege level (Redis 7). Removals come after additions: ACL rules
 * apply left to right. Owner and read-write are the same in Redis, which has no DDL.
 * INFO is @dangerous, hence refused: ioredis then skips its ready check with a warning
 * (`enableReadyCheck: false` silences it); the connection itself works.
 */
export const COMMAND_RULES: Record<Privileges, readonly string[]> = {
  owner: ['+@all', '-@dangerous', '-@admin', ...NAME_LEAKS, ...ESCAPES],
  'read-write': ['+@all', '-@dangerous', '-@admin', ...NAME_LEAKS, ...ESCAPES],
  'read-only': [
    '+@read',
    '+@connection',
    '+@transaction',
    '+subscribe',
    '+psubscribe',
    '+unsubscribe',
    '+punsubscribe',
    '-@dangerous',
    '-@admin',
    ...NAME_LEAKS,
    ...ESCAPES,
  ],
};

/** The databases (prefixes) a user's `ACL LIST` line gives access to. */
export function prefixesOfAclLine(line: string): string[] {
  const prefixes: string[] = [];
  for (const token of line.split(' ')) {
    const match = /^(?:%[RW]+)?~([a-z][a-z0-9_]*):\*$/.exec(token);
    if (match) prefixes.push(match[1]);
  }
  return prefixes;
}
