import { AppConfig } from '@dbaas/core';
import { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { StatementCounter } from './statement-counter';

/**
 * The PostgreSQL store at `config.databaseUrl`: DATABASE_URL, or the embedded server that
 * openStore started. Schema changes only through migrations, applied at boot.
 */
export function dataSourceOptions(config: AppConfig): DataSourceOptions {
  if (!config.databaseUrl) throw new Error('the store is not open: call openStore() first');
  return {
    type: 'postgres',
    url: config.databaseUrl,
    connectTimeoutMS: 5000,
    extra: { max: 20, idleTimeoutMillis: 30000 },
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    // Query logging would print parameters, and parameters can be secrets: this logger
    // only counts the statements.
    logging: false,
    logger: new StatementCounter(),
  };
}
