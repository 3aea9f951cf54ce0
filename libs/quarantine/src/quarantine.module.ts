import { AuthModule } from '@dbaas/auth';
import { BackupJobsModule, BackupsModule } from '@dbaas/backups';
import { CatalogModule } from '@dbaas/catalog';
import { CredentialsModule } from '@dbaas/credentials';
import { DatabasesModule } from '@dbaas/databases';
import { EnginesModule } from '@dbaas/engines';
import { OperationsModule } from '@dbaas/operations';
import { DynamicModule, Module } from '@nestjs/common';
import { BackgroundJobs } from './background-jobs';
import { QuarantineService } from './quarantine.service';

@Module({})
export class QuarantineModule {
  /**
   * `withBackgroundJobs`: the API purges, reconciles, takes the scheduled backups and removes
   * the expired ones on its own; the CLI only when asked.
   */
  static forRoot(options: { withBackgroundJobs: boolean }): DynamicModule {
    return {
      module: QuarantineModule,
      imports: [
        AuthModule,
        CatalogModule,
        OperationsModule,
        CredentialsModule,
        DatabasesModule,
        EnginesModule,
        BackupsModule,
        ...(options.withBackgroundJobs ? [BackupJobsModule] : []),
      ],
      providers: [QuarantineService, ...(options.withBackgroundJobs ? [BackgroundJobs] : [])],
      exports: [QuarantineService],
    };
  }
}
