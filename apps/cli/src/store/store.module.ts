import { AuthModule } from '@dbaas/auth';
import { AppConfig, CoreModule } from '@dbaas/core';
import { EnginesModule } from '@dbaas/engines';
import { PersistenceModule } from '@dbaas/persistence';
import { QuarantineModule } from '@dbaas/quarantine';
import { SampleDataModule } from '@dbaas/sample-data';
import { DynamicModule, Module } from '@nestjs/common';

/**
 * What the store-level commands need: the store (migrated on start), users, engines (to
 * drop and purge databases), quarantine and sample data.
 */
@Module({})
export class StoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: StoreModule,
      imports: [
        CoreModule.forRoot(config),
        PersistenceModule,
        AuthModule,
        EnginesModule,
        QuarantineModule.forRoot({ withBackgroundJobs: false }),
        SampleDataModule,
      ],
    };
  }
}
