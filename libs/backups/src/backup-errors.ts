import { DomainError } from '@dbaas/core';

/**
 * A backup, restore or delete that failed in its task (the tool, the file, the engine): its
 * message is what the task and the backup's `error` say; never a secret.
 */
export class BackupFailedError extends DomainError {}

/** No stored file under this key. */
export class BackupFileNotFoundError extends Error {
  override readonly name = 'BackupFileNotFoundError';
  constructor(readonly key: string) {
    super(`No backup file ${key}`);
  }
}

/**
 * The dump tools live behind the engine providers (@dbaas/engines); their errors (a tool
 * failed; a file fails its checks, which a Redis stream also reports) are re-exported here.
 */
export { BackupCorruptError, BackupToolError } from '@dbaas/engines';
