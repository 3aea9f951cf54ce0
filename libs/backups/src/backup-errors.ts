/**
 * A backup file that fails its checks: tampered, truncated, reordered, sealed with another
 * key, or not the file the backup record names. The message says which, never a secret.
 */
export class BackupCorruptError extends Error {
  override readonly name = 'BackupCorruptError';
}

/** No stored file under this key. */
export class BackupFileNotFoundError extends Error {
  override readonly name = 'BackupFileNotFoundError';
  constructor(readonly key: string) {
    super(`No backup file ${key}`);
  }
}

/** The dump tools live behind the engine providers (@dbaas/engines); their error is re-exported here. */
export { BackupToolError } from '@dbaas/engines';
