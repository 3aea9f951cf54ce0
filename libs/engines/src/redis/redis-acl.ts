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
 * The review of Redis 7's command table for tenants of a shared server. A command whose
 * arguments are keys is confined by the credential's `~name:*` pattern, a pub/sub command by
 * its `&name:*` channels: those are allowed by their category and not listed, unless a
 * question was raised about them. Listed: every other command a tenant could run, what it
 * would reveal of other tenants (key names, counts or values, other clients, the server's
 * data as a whole) or let a tenant do to them, and the decision. Denied ones answer NOPERM,
 * by their category (@admin, @dangerous: every server administration command, listed here
 * only where it reveals tenants) or by name in the rules below. `…|help` subcommands only
 * print usage and are not listed. test/engines/engine-provider.contract-spec.ts checks this
 * table against the server's own command table: a keyless command it allows that is not
 * listed here fails the suite, so a new Redis version is reviewed before it is trusted.
 */
export const COMMAND_REVIEW: Readonly<Record<string, readonly ['allow' | 'deny', string]>> = {
  // Key names, counts and values outside the prefix.
  keys: ['deny', 'lists every key name: ACL key patterns do not filter listings'],
  scan: ['deny', 'lists every key name (so a tenant cannot SCAN even its own prefix)'],
  randomkey: ['deny', 'names a random key of any tenant'],
  dbsize: ['deny', "counts every tenant's keys"],
  info: ['deny', '@dangerous; its keyspace section counts every key, clients and replication'],
  'memory|stats': ['deny', "the server's key count and dataset size"],
  'memory|doctor': ['deny', "a report on the whole server's memory"],
  'memory|malloc-stats': ['deny', "the allocator's view of the whole server"],
  'memory|purge': ['deny', 'acts on the whole server'],
  'memory|usage': ['allow', 'key-checked: own keys only'],
  'object|freq': ['allow', 'key-checked, as every OBJECT subcommand: own keys only'],
  'client|tracking': [
    'deny',
    'BCAST (or a PREFIX of another tenant) pushes the name of every key written, in any prefix',
  ],
  sort: ['deny', '@dangerous: BY and GET patterns read keys outside the key check'],
  sort_ro: ['deny', '@dangerous: BY and GET patterns read keys outside the key check'],
  debug: ['deny', '@admin: DIGEST, OBJECT and the like read any key'],
  'cluster|getkeysinslot': ['deny', 'names every key of a slot (cluster mode)'],
  'cluster|countkeysinslot': ['deny', 'counts every key of a slot (cluster mode)'],
  cluster: ['deny', 'the rest describes a cluster topology; dbaas serves standalone servers'],
  // Other clients and what they run.
  'client|list': ['deny', "@admin: every client's address, user, database and last command"],
  'client|kill': ['deny', '@admin: ends other clients'],
  'client|pause': ['deny', '@admin: stops every client'],
  'client|unblock': ['deny', "@admin: interrupts another client's blocking command"],
  'client|info': ['allow', 'its own connection only'],
  'client|id': ['allow', 'its own id (ids are sequential: how many connections were ever made)'],
  'client|getname': ['allow', 'its own connection only'],
  'client|setname': ['allow', 'its own connection only'],
  'client|reply': ['allow', 'its own connection only'],
  'client|caching': ['allow', 'its own tracking state (tracking itself is denied)'],
  'client|getredir': ['allow', 'its own tracking state (tracking itself is denied)'],
  'client|trackinginfo': ['allow', 'its own tracking state (tracking itself is denied)'],
  monitor: ['deny', '@admin: streams every command of every client, keys and values included'],
  slowlog: ['deny', "@admin: other clients' slow commands with their arguments (key names)"],
  latency: ['deny', "@admin: the server's latency events and per-command statistics"],
  'acl|log': ['deny', '@admin: refused commands of every user, with key and channel names'],
  'acl|list': ['deny', '@admin: every user and its key pattern, so every database name'],
  'acl|users': ['deny', '@admin: every user name'],
  'acl|getuser': ['deny', "@admin: another user's rules"],
  'acl|dryrun': ['deny', "@admin: tries another user's rules"],
  'acl|whoami': ['allow', 'its own user name'],
  'acl|cat': ['allow', 'the fixed list of ACL categories'],
  'acl|genpass': ['allow', 'random bytes'],
  config: ['deny', '@admin: the whole server configuration (notifications, ACL file, ...)'],
  // Pub/sub: channels are confined to `&name:*`, set after `resetchannels` (see createUser).
  pubsub: ['deny', "CHANNELS, SHARDCHANNELS, NUMSUB, NUMPAT: other tenants' channels"],
  subscribe: ['allow', 'own channels only: keyspace notifications (__keyspace@0__:…) are not'],
  psubscribe: ['allow', 'own channels only: the pattern must be `name:*` itself'],
  ssubscribe: ['allow', 'own channels only'],
  publish: ['allow', 'own channels only'],
  spublish: ['allow', 'own channels only'],
  unsubscribe: ['allow', 'its own subscriptions'],
  punsubscribe: ['allow', 'its own subscriptions'],
  sunsubscribe: ['allow', 'its own subscriptions'],
  // Ways out of the prefix, or to harm the others.
  select: ['deny', 'leaves database 0, where the prefix is'],
  swapdb: ['deny', 'moves every tenant'],
  move: ['deny', 'takes a key out of database 0'],
  copy: ['deny', 'COPY … DB leaves database 0'],
  migrate: ['deny', 'sends keys to another server'],
  flushdb: ['deny', 'wipes every tenant'],
  flushall: ['deny', 'wipes every tenant'],
  function: [
    'deny',
    "the function library is the server's: LIST and DUMP show it, LOAD changes it",
  ],
  'script|flush': ['deny', 'empties the script cache of every tenant'],
  'script|kill': ['deny', "stops another client's script"],
  'script|debug': ['deny', 'forks the server, a copy of every tenant, per debugging session'],
  'script|load': ['allow', "adds to the cache; scripts run with the caller's rules"],
  'script|exists': ['allow', 'as EVALSHA: only whether a script one already has was loaded'],
  eval: ['allow', "runs with the caller's rules: keys and commands are checked inside"],
  evalsha: ['allow', "runs with the caller's rules: keys and commands are checked inside"],
  eval_ro: ['allow', "runs with the caller's rules: keys and commands are checked inside"],
  evalsha_ro: ['allow', "runs with the caller's rules: keys and commands are checked inside"],
  fcall: ['allow', "runs a function the administrator loaded, with the caller's rules"],
  fcall_ro: ['allow', "runs a function the administrator loaded, with the caller's rules"],
  // The connection and the server's fixed facts: nothing of other tenants.
  wait: ['allow', 'how many replicas acknowledged its own writes'],
  hello: ['allow', 'the server version and its own connection'],
  auth: ['allow', 'its own login'],
  reset: ['allow', 'its own connection'],
  quit: ['allow', 'its own connection'],
  ping: ['allow', 'nothing'],
  echo: ['allow', 'nothing'],
  time: ['allow', "the server's clock"],
  lolwut: ['allow', 'the server version'],
  multi: ['allow', 'its own transaction; queued commands are checked'],
  exec: ['allow', 'its own transaction; queued commands are checked'],
  discard: ['allow', 'its own transaction'],
  unwatch: ['allow', 'its own transaction'],
  asking: ['allow', 'a connection flag (cluster)'],
  readonly: ['allow', 'a connection flag (cluster)'],
  readwrite: ['allow', 'a connection flag (cluster)'],
  'command|count': ['allow', "the server's command table"],
  'command|docs': ['allow', "the server's command table"],
  'command|info': ['allow', "the server's command table"],
  'command|list': ['allow', "the server's command table"],
  'command|getkeys': ['allow', 'parses its arguments; runs nothing'],
  'command|getkeysandflags': ['allow', 'parses its arguments; runs nothing'],
};

/** Denied by name (the others are denied by category); see COMMAND_REVIEW for why. */
const NAME_LEAKS = [
  '-scan',
  '-keys',
  '-randomkey',
  '-dbsize',
  '-pubsub',
  '-client|tracking',
  '-memory|stats',
  '-memory|doctor',
  '-memory|malloc-stats',
  '-cluster',
];
/**
 * A dbaas database is the prefix in logical database 0: no way out of it (SELECT, MOVE,
 * COPY ... DB, SWAPDB, MIGRATE) and no way to wipe others (FLUSHDB/FLUSHALL are global).
 * FUNCTION LOAD/DELETE and SCRIPT FLUSH/KILL act on the server-wide function library,
 * script cache and running scripts; MEMORY PURGE and SCRIPT DEBUG on the server itself.
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
  '-script|debug',
  '-memory|purge',
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

/**
 * Appended to a user's command rules while its database is over its size limit (SPEC §10):
 * no writes, but keys may still be deleted or given a time to live. Read-only users keep
 * their rules (this would give them DEL).
 */
export const WRITES_BLOCKED_RULES: readonly string[] = ['-@write', '+del', '+unlink', '+expire'];

/** The command rules of a user: its privileges', plus WRITES_BLOCKED_RULES if blocked. */
export function commandRules(privileges: Privileges, writesBlocked: boolean): string[] {
  const rules = [...COMMAND_RULES[privileges]];
  if (writesBlocked && privileges !== 'read-only') rules.push(...WRITES_BLOCKED_RULES);
  return rules;
}

/** The databases (prefixes) a user's `ACL LIST` line gives access to. */
export function prefixesOfAclLine(line: string): string[] {
  const prefixes: string[] = [];
  for (const token of line.split(' ')) {
    const match = /^(?:%[RW]+)?~([a-z][a-z0-9_]*):\*$/.exec(token);
    if (match) prefixes.push(match[1]);
  }
  return prefixes;
}
