import { Clock, SystemClock } from '@dbaas/core';
import { DatabasesModule } from '@dbaas/databases';
import { BackupEntity } from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackupsModule } from '../backups.module';
import { BackupExpiry } from './backup-expiry.service';
import { BackupScheduleRepository } from './backup-schedule.repository';
import { ScheduledBackups } from './scheduled-backups.service';

/** The backups' background work: the daily scheduled backups and the expiry (see BackgroundJobs). */
@Module({
  imports: [BackupsModule, DatabasesModule, TypeOrmModule.forFeature([BackupEntity])],
  providers: [
    BackupScheduleRepository,
    ScheduledBackups,
    BackupExpiry,
    { provide: Clock, useClass: SystemClock },
  ],
  exports: [ScheduledBackups, BackupExpiry],
})
export class BackupJobsModule {}
