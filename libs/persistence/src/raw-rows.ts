/**
 * Helpers for the hand-written SQL of the hot paths (login, detail, operation records),
 * where TypeORM's query builder costs more CPU than the query itself (see the README's
 * Performance section). The SQL is plain PostgreSQL.
 */

/** A json/json_agg column (node-postgres parses it); `null` (json_agg over no rows) is `empty`. */
export function jsonColumn<T>(value: T | null, empty: T): T {
  return value ?? empty;
}
