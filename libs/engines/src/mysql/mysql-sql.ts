import { escape } from 'mysql2';

/** MySQL identifier quoting: backticks, an inner backtick doubled. */
export const quoteIdent = (name: string): string => '`' + name.replace(/`/g, '``') + '`';

/** A string literal with the driver's escaping (quotes and backslashes). */
export const quoteLiteral = (value: string): string => escape(value);

/** dbaas creates every account with host `%`: the user may connect from anywhere. */
export const account = (user: string): string => `${quoteLiteral(user)}@'%'`;

/**
 * The database name as it must appear in GRANT/REVOKE: there `_` and `%` are wildcards,
 * so a grant on `a_b`.* would also cover a database `axb`. Escaped, it covers only `a_b`.
 * (mysql.db stores the name in this escaped form too.)
 */
export const grantDatabase = (database: string): string => quoteIdent(escapeLike(database));

/** Escapes LIKE wildcards (default escape character `\`). */
export const escapeLike = (value: string): string => value.replace(/[\\_%]/g, '\\$&');
