import { AppConfig } from '@dbaas/core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { StatementCounter } from './statement-counter';

/** Which metadata store is in use, for the first log line. */
export function describeStore(config: AppConfig): string {
  if (!config.databaseUrl) return `embedded PGlite store in ${join(config.dataDir, 'pgdata')}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL store at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}

/**
 * PostgreSQL when DATABASE_URL is set, otherwise the embedded PGlite store in
 * DBAAS_DATA_DIR. Schema changes only through migrations, applied at boot.
 */
export function dataSourceOptions(config: AppConfig): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    // Query logging would print parameters, and parameters can be secrets: this logger
    // only counts the statements.
    logging: false,
    logger: new StatementCounter(),
  };
  if (config.databaseUrl) {
    return {
      ...common,
      url: config.databaseUrl,
      connectTimeoutMS: 5000,
      extra: { max: 20, idleTimeoutMillis: 30000 },
    };
  }
  const dataDir = join(config.dataDir, 'pgdata');
  mkdirSync(dataDir, { recursive: true });
  return {
    ...common,
    driver: new PGliteDriver({ dataDir }).driver,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
  } as DataSourceOptions;
}
