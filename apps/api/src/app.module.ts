import { AuthModule } from '@dbaas/auth';
import { CatalogModule } from '@dbaas/catalog';
import { AppConfig, CoreModule } from '@dbaas/core';
import { PersistenceModule } from '@dbaas/persistence';
import { SampleDataModule } from '@dbaas/sample-data';
import { DynamicModule, Module } from '@nestjs/common';
import { CATALOG_CONTROLLERS } from './catalog/catalog.controllers';
import { RootController } from './docs/root.controller';
import { HealthController } from './health/health.controller';
import { DbaGuard } from './http/dba-only.guard';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config),
        PersistenceModule,
        AuthModule,
        CatalogModule,
        SampleDataModule,
      ],
      controllers: [RootController, HealthController, ...CATALOG_CONTROLLERS],
      providers: [DbaGuard],
    };
  }
}
