import { StoreLog } from './store-log';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from '../entities';
import { MIGRATIONS } from '../migrations';

/** Where versions before the embedded PostgreSQL kept their PGlite store, in DBAAS_DATA_DIR. */
export const PGLITE_DIR = 'pgdata';
/** What that folder becomes once imported: kept until the operator removes it. */
export const PGLITE_IMPORTED_DIR = 'pgdata.pglite-imported';

/** Rows sent per INSERT. */
const BATCH = 500;

/** Whether DBAAS_DATA_DIR holds a PGlite store not imported yet. */
export function hasPgliteStore(dataDir: string): boolean {
  return existsSync(join(dataDir, PGLITE_DIR, 'PG_VERSION'));
}

/** The PGlite store, opened as the versions that wrote it opened it. */
export function pgliteOptions(dir: string): DataSourceOptions {
  // Loaded only here: no other code path needs PGlite any more.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGliteDriver } = require('typeorm-pglite') as typeof import('typeorm-pglite');
  return {
    type: 'postgres',
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    logging: false,
    driver: new PGliteDriver({ dataDir: dir }).driver,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
  } as DataSourceOptions;
}

/**
 * One-time import of the PGlite store of an earlier version into the embedded PostgreSQL
 * (`url`, already migrated): the PGlite store is brought to the current schema with the
 * same migrations, then every table is copied in one transaction (foreign keys checked at
 * the end, sequences moved past the copied ids) and the row counts compared. Only then is
 * the PGlite folder renamed, so an import cut short is simply done again at the next start.
 * The secret key file is unchanged, so sealed secrets stay readable.
 */
export async function importPgliteStore(
  dataDir: string,
  url: string,
  logger: StoreLog,
): Promise<void> {
  const from = join(dataDir, PGLITE_DIR);
  logger.log(`Found a PGlite store of an earlier version in ${from}: importing it once`);
  const source = new DataSource(pgliteOptions(from));
  const target = new DataSource({ type: 'postgres', url, entities: ENTITIES, logging: false });
  await source.initialize();
  await target.initialize();
  let rows = 0;
  try {
    await source.runMigrations();
    const tables = (
      (await target.query(
        `SELECT table_name FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations'
          ORDER BY table_name`,
      )) as { table_name: string }[]
    ).map((row) => row.table_name);
    await target.transaction(async (manager) => {
      // Copied in any order: foreign keys and triggers are not checked row by row.
      await manager.query('SET LOCAL session_replication_role = replica');
      await manager.query(`TRUNCATE ${tables.map(quote).join(', ')} RESTART IDENTITY`);
      for (const table of tables) {
        const columns = (await manager.query(
          `SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
          [table],
        )) as { column_name: string; data_type: string }[];
        const copied = (await source.query(`SELECT * FROM ${quote(table)}`)) as Record<
          string,
          unknown
        >[];
        for (let start = 0; start < copied.length; start += BATCH) {
          await insertRows(manager, table, columns, copied.slice(start, start + BATCH));
        }
        const [{ count }] = (await manager.query(
          `SELECT count(*)::int AS count FROM ${quote(table)}`,
        )) as { count: number }[];
        if (count !== copied.length) {
          throw new Error(`${table}: ${copied.length} rows read, ${count} written`);
        }
        rows += count;
        for (const { column_name } of columns) {
          const [{ sequence }] = (await manager.query(
            'SELECT pg_get_serial_sequence($1, $2) AS sequence',
            [quote(table), column_name],
          )) as { sequence: string | null }[];
          if (!sequence) continue;
          await manager.query(
            `SELECT setval($1, (SELECT COALESCE(MAX(${quote(column_name)}), 0) + 1 FROM ${quote(table)}), false)`,
            [sequence],
          );
        }
      }
    });
  } finally {
    await source.destroy();
    await target.destroy();
  }
  renameSync(from, join(dataDir, PGLITE_IMPORTED_DIR));
  logger.log(
    `Imported ${rows} rows from the PGlite store; its files are kept in ${join(dataDir, PGLITE_IMPORTED_DIR)} (remove that folder once you are satisfied)`,
  );
}

async function insertRows(
  manager: DataSource['manager'],
  table: string,
  columns: { column_name: string; data_type: string }[],
  rows: Record<string, unknown>[],
): Promise<void> {
  if (rows.length === 0) return;
  const params: unknown[] = [];
  const tuples = rows.map((row) => {
    const placeholders = columns.map(({ column_name, data_type }) => {
      params.push(columnValue(row[column_name], data_type));
      return `$${params.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  await manager.query(
    `INSERT INTO ${quote(table)} (${columns.map((c) => quote(c.column_name)).join(', ')}) VALUES ${tuples.join(', ')}`,
    params,
  );
}

/** A value as node-postgres must send it: JSON as text (an array would become a SQL array). */
function columnValue(value: unknown, dataType: string): unknown {
  if (value === null || value === undefined) return null;
  if ((dataType === 'json' || dataType === 'jsonb') && typeof value !== 'string') {
    return JSON.stringify(value);
  }
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value);
  return value;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
