import { AuthModule } from '@dbaas/auth';
import { CredentialsModule } from '@dbaas/credentials';
import { DatabasesModule } from '@dbaas/databases';
import { EnginesModule } from '@dbaas/engines';
import { DynamicModule, Module } from '@nestjs/common';
import { PurgeScheduler } from './purge.scheduler';
import { QuarantineService } from './quarantine.service';

@Module({})
export class QuarantineModule {
  /** `withScheduler`: the API purges on its own; the CLI runs a purge when asked. */
  static forRoot(options: { withScheduler: boolean }): DynamicModule {
    return {
      module: QuarantineModule,
      imports: [AuthModule, EnginesModule, CredentialsModule, DatabasesModule],
      providers: [QuarantineService, ...(options.withScheduler ? [PurgeScheduler] : [])],
      exports: [QuarantineService],
    };
  }
}
