import { AuthModule } from '@dbaas/auth';
import { DatabasesModule } from '@dbaas/databases';
import { EnginesModule } from '@dbaas/engines';
import { OperationsModule } from '@dbaas/operations';
import { BackupEntity } from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackupStorageModule } from './backup-storage.module';
import { BackupRepository } from './backup.repository';
import { BackupsService } from './backups.service';
import { CloneService } from './clone.service';

/**
 * Backups: the `backup` table (BackupRepository), the backup files (BackupStorageModule),
 * the operations on them (BackupsService, which also registers its recovery with the
 * lifecycle reconciler), and the databases that start with data (CloneService: clones and
 * `from_backup`).
 */
@Module({
  imports: [
    BackupStorageModule,
    AuthModule,
    DatabasesModule,
    EnginesModule,
    OperationsModule,
    TypeOrmModule.forFeature([BackupEntity]),
  ],
  providers: [BackupRepository, BackupsService, CloneService],
  exports: [BackupStorageModule, BackupRepository, BackupsService, CloneService],
})
export class BackupsModule {}
