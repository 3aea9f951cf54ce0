/**
 * Helpers for the hand-written SQL of the hot paths (login, detail, operation records),
 * where TypeORM's query builder costs more CPU than the query itself (see the README's
 * Performance section). The SQL is plain PostgreSQL: it runs on both stores.
 */

/**
 * A json/json_agg column as a value: node-postgres parses json columns, PGlite may hand
 * them over as text. `null` (json_agg over no rows) becomes `empty`.
 */
export function jsonColumn<T>(value: T | string | null, empty: T): T {
  if (value === null || value === undefined) return empty;
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
