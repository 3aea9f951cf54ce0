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

/**
 * An engine's dump or restore tool failed. The message has its exit status and the end of
 * its stderr, with the passwords it was given replaced by `[redacted]`.
 */
export class BackupToolError extends Error {
  override readonly name = 'BackupToolError';
}
