import { AuthModule } from '@dbaas/auth';
import { BackupStorageModule } from '@dbaas/backups';
import { DatabasesModule } from '@dbaas/databases';
import { QuarantineModule } from '@dbaas/quarantine';
import { Module } from '@nestjs/common';
import { SampleDataService } from './sample-data.service';
import { StoreResetRepository } from './store-reset.repository';

@Module({
  imports: [
    AuthModule,
    BackupStorageModule,
    DatabasesModule,
    QuarantineModule.forRoot({ withBackgroundJobs: false }),
  ],
  providers: [StoreResetRepository, SampleDataService],
  exports: [SampleDataService],
})
export class SampleDataModule {}
