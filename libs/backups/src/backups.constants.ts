/** Injection token for the configured BackupStorage (a local folder or an S3 bucket). */
export const BACKUP_STORAGE = Symbol('BACKUP_STORAGE');
