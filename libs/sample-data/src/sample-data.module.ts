import { Module } from '@nestjs/common';
import { SampleDataService } from './sample-data.service';

@Module({ providers: [SampleDataService], exports: [SampleDataService] })
export class SampleDataModule {}
