import { AuthModule } from '@dbaas/auth';
import { BackupsModule } from '@dbaas/backups';
import { BrokerModule } from '@dbaas/broker';
import { CatalogModule } from '@dbaas/catalog';
import { AppConfig, CoreModule } from '@dbaas/core';
import { CredentialsModule } from '@dbaas/credentials';
import { EnginesModule } from '@dbaas/engines';
import { OperationsModule } from '@dbaas/operations';
import { DatabasesModule } from '@dbaas/databases';
import { QuarantineModule } from '@dbaas/quarantine';
import { PersistenceModule } from '@dbaas/persistence';
import { SampleDataModule } from '@dbaas/sample-data';
import { DynamicModule, Module } from '@nestjs/common';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { BackupController, DatabaseBackupController } from './backups/backup.controller';
import { CredentialController } from './credentials/credential.controller';
import { DatabaseController } from './databases/database.controller';
import { InfraStatusService } from './catalog/infra-status.service';
import { CATALOG_CONTROLLERS } from './catalog/catalog.controllers';
import { RootController } from './docs/root.controller';
import { HealthController } from './health/health.controller';
import { ObservabilityModule } from './observability/observability.module';
import { TaskController } from './tasks/task.controller';
import { UserPasswordController } from './users/user-password.controller';
import { DbaGuard } from './http/dba-only.guard';
import { BROKER_CONTROLLERS, BROKER_PROVIDERS } from './broker';

/** Every controller of the API (idempotent.spec.ts walks their routes). */
export const API_CONTROLLERS = [
  RootController,
  HealthController,
  DatabaseController,
  CredentialController,
  TaskController,
  BackupController,
  DatabaseBackupController,
  ...CATALOG_CONTROLLERS,
  UserPasswordController,
  ...BROKER_CONTROLLERS,
];

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
        EnginesModule,
        OperationsModule,
        SampleDataModule,
        CredentialsModule,
        DatabasesModule,
        BackupsModule,
        QuarantineModule.forRoot({ withBackgroundJobs: true }),
        BrokerModule,
        ObservabilityModule,
        IdempotencyModule,
      ],
      controllers: API_CONTROLLERS,
      providers: [DbaGuard, ...BROKER_PROVIDERS, InfraStatusService],
    };
  }
}
