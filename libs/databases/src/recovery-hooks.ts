import { Injectable } from '@nestjs/common';
import { DatabaseRow } from './database.repository';

/**
 * Recovery work of the libs above this one, run by the LifecycleReconciler (which sits
 * below them and cannot import them): they register it here when their module starts.
 * Unregistered (a process without those libs), a step fails and is retried next round.
 */
@Injectable()
export class RecoveryHooks {
  /**
   * Finishes an interrupted restore of a backup in place (`restoring_backup`), holding the
   * database's lock; leaves the database `ready`, or throws (retried next round). The
   * backups lib registers it.
   */
  finishBackupRestore?: (database: DatabaseRow) => Promise<void>;

  /** Run at the end of every reconciler round (the backups lib: abandoned backups). */
  readonly afterRound: (() => Promise<void>)[] = [];
}
