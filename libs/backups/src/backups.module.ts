import { BackupEntity } from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackupStorageModule } from './backup-storage.module';
import { BackupRepository } from './backup.repository';

/** Backups: the `backup` table (BackupRepository) and the backup files (BackupStorageModule). */
@Module({
  imports: [BackupStorageModule, TypeOrmModule.forFeature([BackupEntity])],
  providers: [BackupRepository],
  exports: [BackupStorageModule, BackupRepository],
})
export class BackupsModule {}
