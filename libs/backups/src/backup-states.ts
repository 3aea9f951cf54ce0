import { TransitionTable } from '@dbaas/core';
import { BackupStatus } from '@dbaas/persistence';

/**
 * The lifecycle of a backup, from → allowed to:
 * - `running` → `ready`: the file is stored whole, its size and SHA-256 recorded;
 *   → `failed`: the dump, the sealing or the storage failed (or the process died): no file.
 * - `ready`, `failed` → `deleting`: DELETE or expiry; the row goes once the file is gone.
 * - `deleting` → nothing: the row is deleted.
 */
export const BACKUP_TRANSITIONS: TransitionTable<BackupStatus> = {
  running: ['ready', 'failed'],
  ready: ['deleting'],
  failed: ['deleting'],
  deleting: [],
};
