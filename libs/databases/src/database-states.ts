import { TransitionTable } from '@dbaas/core';
import { DatabaseStatus } from '@dbaas/persistence';

/**
 * The lifecycle of a database, from → allowed to. The transient states (`creating`,
 * `quarantining`, `restoring`, `deleting`) mark work in flight: if the process dies, the
 * reconciler finds them and takes the step DATABASE_RECOVERY names.
 *
 * - `creating` → `ready`: made on its engine with its owner; → `deleting`: rolled back.
 * - `ready` → `quarantining` (first DELETE), `lost` (drift repair: missing on its engine).
 * - `quarantining` → `quarantined`: every login revoked; → `ready`: rolled back; → `lost`:
 *   rolled back, the database being missing on its engine.
 * - `quarantined` → `restoring` (a dba's restore), `deleting` (second DELETE, purge).
 * - `restoring` → `ready`: access back; → `quarantined`: rolled back.
 * - `lost` → `ready` (found on its engine again), `quarantining` (deleted the two-step way).
 * - `ready` → `restoring_backup` (a backup restored in place) → `ready`: the data is the
 *   backup's (a failed restore that changed nothing goes back to `ready` too).
 * - any state but `deleting` → `deleting`: the sample-data reset drops every database.
 * - `deleting` → nothing: the row is deleted once the database is dropped.
 */
export const DATABASE_TRANSITIONS: TransitionTable<DatabaseStatus> = {
  creating: ['ready', 'deleting'],
  ready: ['quarantining', 'lost', 'deleting', 'restoring_backup'],
  quarantining: ['quarantined', 'ready', 'lost', 'deleting'],
  quarantined: ['restoring', 'deleting'],
  restoring: ['ready', 'quarantined', 'deleting'],
  lost: ['ready', 'quarantining', 'deleting'],
  restoring_backup: ['ready', 'deleting'],
  deleting: [],
};

/**
 * What the reconciler does with a database a dead process left in a state (the lifecycle
 * reconciler looks the step up here):
 * - `destroy`: drop it and its users, then the records (a create is rolled back, a delete
 *   finished: data may already be gone, there is no way back);
 * - `give access back`: an interrupted quarantine is undone (→ `ready`), or, the database
 *   being missing on its engine (a lost database was being quarantined), → `lost`;
 * - `revoke access again`: an interrupted restore is undone (→ `quarantined`);
 * - `finish the backup restore`: an interrupted restore of a backup in place is run again
 *   from the same file, to its end (→ `ready`); the backups lib does it
 *   (RecoveryHooks.finishBackupRestore);
 * - `credentials only`: the database is settled; only its credentials' work is converged.
 */
export type DatabaseRecoveryStep =
  | 'destroy'
  | 'give access back'
  | 'revoke access again'
  | 'finish the backup restore'
  | 'credentials only';

export const DATABASE_RECOVERY: Readonly<Record<DatabaseStatus, DatabaseRecoveryStep>> = {
  creating: 'destroy',
  deleting: 'destroy',
  quarantining: 'give access back',
  restoring: 'revoke access again',
  restoring_backup: 'finish the backup restore',
  ready: 'credentials only',
  quarantined: 'credentials only',
  lost: 'credentials only',
};

/** States with no operation in flight: the reconciler converges only their credentials. */
export const SETTLED_STATES = (Object.keys(DATABASE_RECOVERY) as DatabaseStatus[]).filter(
  (state) => DATABASE_RECOVERY[state] === 'credentials only',
);
