import { InterruptedTask, TaskOutcome } from '@dbaas/operations';
import { CredentialStatus, DatabaseStatus } from '@dbaas/persistence';

/** A database as the reconciler found it (before converging) and left it; null: no row. */
export interface ConvergedDatabase {
  before: DatabaseStatus | null;
  /** The states of its credentials that were not `ready`. */
  credentialsBefore: CredentialStatus[];
  after: DatabaseStatus | null;
}

const ENDED = 'Interrupted: the API process ended';
const NOTHING_DONE = `${ENDED} before the task changed anything.`;
const UNKNOWN = `${ENDED} before the task finished.`;
const rolledBack = (what: string, state: string) =>
  `${ENDED} during the ${what}; the reconciler rolled it back (${state}).`;
const error = (message: string): TaskOutcome => ({ status: 'error', error: message });
const SUCCESS: TaskOutcome = { status: 'success' };

/**
 * How a task whose process ended really went, judged from its database once the
 * reconciler has converged it: a create or a clone (`from_backup` included) whose database
 * is there did finish; one the reconciler rolled back failed; an interrupted quarantine or
 * restore is rolled back; a delete, a password reset or a credential drop the reconciler
 * finished succeeded.
 */
export function interruptedOutcome(
  task: InterruptedTask,
  database: ConvergedDatabase,
): TaskOutcome {
  if (task.status === 'waiting') return error(`${ENDED} while the task waited; it never started.`);
  const { before, after, credentialsBefore } = database;
  switch (task.type) {
    case 'create_database':
    case 'clone_database':
      if (after !== null) return SUCCESS;
      if (task.databaseId === null)
        return error(`${ENDED} before the database was recorded; nothing was created.`);
      return error(
        rolledBack(task.type === 'clone_database' ? 'clone' : 'create', 'the database was dropped'),
      );
    case 'quarantine_database':
      if (after === 'quarantined') return SUCCESS;
      if (before !== 'quarantining') return error(NOTHING_DONE);
      return error(
        rolledBack(
          'quarantine',
          after === 'lost' ? 'still lost: missing on its engine' : 'access restored',
        ),
      );
    case 'restore_database':
      if (after === 'ready') return SUCCESS;
      return error(
        before === 'restoring' ? rolledBack('restore', 'still in quarantine') : NOTHING_DONE,
      );
    case 'delete_database':
    case 'purge_database':
      return after === null ? SUCCESS : error(NOTHING_DONE);
    case 'create_credential':
      return error(
        credentialsBefore.includes('creating')
          ? rolledBack('credential create', 'the user was dropped')
          : UNKNOWN,
      );
    case 'reset_password':
      return credentialsBefore.includes('resetting') ? SUCCESS : error(UNKNOWN);
    case 'delete_credential':
      return credentialsBefore.includes('deleting') ? SUCCESS : error(UNKNOWN);
    case 'backup_database':
      return error(`${ENDED} during the backup; the backup is marked failed and no file is kept.`);
    case 'restore_backup':
      // The reconciler ran the restore again from the same file, to its end.
      if (before === 'restoring_backup' && after === 'ready') return SUCCESS;
      return error(before === 'restoring_backup' ? UNKNOWN : NOTHING_DONE);
    default:
      return error(UNKNOWN);
  }
}
