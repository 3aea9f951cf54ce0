import { AppConfig, makePrivateDir, makeTreePrivate } from '@dbaas/core';
import { Logger } from '@nestjs/common';
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
  makePrivateDataDir(config.dataDir);
  const dataDir = join(config.dataDir, 'pgdata');
  makePrivateDir(dataDir);
  return {
    ...common,
    driver: new PGliteDriver({ dataDir }).driver,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
  } as DataSourceOptions;
}

/**
 * The embedded store's folder holds password hashes and sealed secrets: the owner's only.
 * A folder an older version (or a copy) left open is closed at boot, with one log line.
 */
export function makePrivateDataDir(dataDir: string): void {
  makePrivateDir(dataDir);
  const fixed = makeTreePrivate(dataDir);
  if (fixed) {
    new Logger('Store').log(
      `Fixed the mode of ${fixed} entries in ${dataDir}: others could read them (folders are now 0700, files 0600)`,
    );
  }
}
