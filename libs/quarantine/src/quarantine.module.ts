import { AuthModule } from '@dbaas/auth';
import { CredentialsModule } from '@dbaas/credentials';
import { DatabasesModule } from '@dbaas/databases';
import { OperationsModule } from '@dbaas/operations';
import { DynamicModule, Module } from '@nestjs/common';
import { BackgroundJobs } from './background-jobs';
import { QuarantineService } from './quarantine.service';

@Module({})
export class QuarantineModule {
  /** `withBackgroundJobs`: the API purges and reconciles on its own; the CLI only when asked. */
  static forRoot(options: { withBackgroundJobs: boolean }): DynamicModule {
    return {
      module: QuarantineModule,
      imports: [AuthModule, OperationsModule, CredentialsModule, DatabasesModule],
      providers: [QuarantineService, ...(options.withBackgroundJobs ? [BackgroundJobs] : [])],
      exports: [QuarantineService],
    };
  }
}
