import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@dbaas/core';
import { BackupFiles } from './backup-files';
import { BACKUP_STORAGE } from './backups.constants';
import { BackupKey } from './encryption/backup-key';
import { BackupStorage } from './storage/backup-storage';
import { createBackupStorage } from './storage/create-backup-storage';

/** The configured backup storage and the sealed backup files on it (needs CoreModule only). */
@Module({
  providers: [
    {
      provide: BACKUP_STORAGE,
      useFactory: (config: AppConfig) => createBackupStorage(config.backupStorage),
      inject: [APP_CONFIG],
    },
    {
      provide: BackupFiles,
      useFactory: (storage: BackupStorage, config: AppConfig) =>
        new BackupFiles(storage, BackupKey.fromSecretKey(config.secretKey)),
      inject: [BACKUP_STORAGE, APP_CONFIG],
    },
  ],
  exports: [BACKUP_STORAGE, BackupFiles],
})
export class BackupStorageModule {}
