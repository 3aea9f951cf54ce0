import { BackupStorageConfig } from '@dbaas/core';
import { BackupStorage } from './backup-storage';
import { LocalDirStorage } from './local-dir.storage';
import { S3BucketStorage } from './s3-bucket.storage';

/** The storage strategy the configuration chose. */
export function createBackupStorage(config: BackupStorageConfig): BackupStorage {
  return config.kind === 'local' ? new LocalDirStorage(config.dir) : new S3BucketStorage(config);
}
