import { AuthModule } from '@dbaas/auth';
import { DatabasesModule } from '@dbaas/databases';
import { EnginesModule } from '@dbaas/engines';
import { BackupEntity } from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackupStorageModule } from './backup-storage.module';
import { BackupRepository } from './backup.repository';
import { CloneService } from './clone.service';

/**
 * Backups: the `backup` table (BackupRepository), the backup files (BackupStorageModule),
 * and the databases that start with data (CloneService: clones and `from_backup`).
 */
@Module({
  imports: [
    AuthModule,
    DatabasesModule,
    EnginesModule,
    BackupStorageModule,
    TypeOrmModule.forFeature([BackupEntity]),
  ],
  providers: [BackupRepository, CloneService],
  exports: [BackupStorageModule, BackupRepository, CloneService],
})
export class BackupsModule {}
