import { DatabasesModule } from '@dbaas/databases';
import { QuarantineModule } from '@dbaas/quarantine';
import { Module } from '@nestjs/common';
import { SampleDataService } from './sample-data.service';

@Module({
  imports: [DatabasesModule, QuarantineModule.forRoot({ withBackgroundJobs: false })],
  providers: [SampleDataService],
  exports: [SampleDataService],
})
export class SampleDataModule {}
