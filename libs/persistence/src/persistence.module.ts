import { APP_CONFIG, AppConfig } from '@dbaas/core';
import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions } from './data-source-options';

/**
 * The metadata store: one TypeORM data source (and its DataSource for transactions). Each
 * lib registers the entities of the tables it owns (`TypeOrmModule.forFeature`) and wraps
 * them in its repository classes. The store must be open first (openStore: the embedded
 * server started, or DATABASE_URL).
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config), migrationsRun: true }),
    }),
  ],
})
export class PersistenceModule {}
