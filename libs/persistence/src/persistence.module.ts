import { APP_CONFIG, AppConfig, makeTreePrivate } from '@dbaas/core';
import { Global, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { ENTITIES } from './entities';

/**
 * PGlite creates its files 0666 whatever the umask (the 0700 data folder keeps others
 * out): what it wrote while opening and migrating the store is made the owner's only too.
 */
@Injectable()
export class EmbeddedStoreModes implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // Injected so that this runs once the store is open.
    @InjectDataSource() readonly store: DataSource,
  ) {}

  onModuleInit(): void {
    if (!this.config.databaseUrl) makeTreePrivate(this.config.dataDir);
  }
}

/** The metadata store: one TypeORM data source and a repository for every entity. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config), migrationsRun: true }),
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  providers: [EmbeddedStoreModes],
  exports: [TypeOrmModule],
})
export class PersistenceModule {}
