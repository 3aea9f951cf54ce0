import { InterruptedTask } from '@dbaas/operations';
import { TaskType } from '@dbaas/persistence';
import { ConvergedDatabase, interruptedOutcome } from './interrupted-outcome';

const task = (type: TaskType, status: InterruptedTask['status'] = 'running'): InterruptedTask => ({
  id: 1,
  type,
  status,
  databaseId: 5,
  databaseName: 'orders',
});

const found = (
  before: ConvergedDatabase['before'],
  after: ConvergedDatabase['after'],
  credentialsBefore: ConvergedDatabase['credentialsBefore'] = [],
): ConvergedDatabase => ({ before, after, credentialsBefore });

const ok = { status: 'success' };
const failed = (says: string) => ({
  status: 'error',
  error: expect.stringContaining(says) as string,
});

describe('interruptedOutcome', () => {
  const sut = interruptedOutcome;

  it.each<[string, InterruptedTask, ConvergedDatabase, string]>([
    [
      'a create whose database is ready',
      task('create_database'),
      found('ready', 'ready'),
      'success',
    ],
    [
      'a create the reconciler rolled back',
      task('create_database'),
      found('creating', null),
      'rolled it back',
    ],
    [
      'a create that never wrote its row',
      { ...task('create_database'), databaseId: null },
      found(null, null),
      'nothing was created',
    ],
    [
      'a quarantine that finished',
      task('quarantine_database'),
      found('quarantined', 'quarantined'),
      'success',
    ],
    [
      'a quarantine rolled back',
      task('quarantine_database'),
      found('quarantining', 'ready'),
      'during the quarantine; the reconciler rolled it back (access restored)',
    ],
    [
      'a quarantine that never started its change',
      task('quarantine_database'),
      found('ready', 'ready'),
      'before the task changed anything',
    ],
    [
      'a restore rolled back',
      task('restore_database'),
      found('restoring', 'quarantined'),
      'during the restore; the reconciler rolled it back (still in quarantine)',
    ],
    ['a restore that finished', task('restore_database'), found('ready', 'ready'), 'success'],
    [
      'a delete the reconciler finished',
      task('delete_database'),
      found('deleting', null),
      'success',
    ],
    [
      'a purge that never changed anything',
      task('purge_database'),
      found('quarantined', 'quarantined'),
      'before the task changed anything',
    ],
    [
      'a credential create rolled back',
      task('create_credential'),
      found('ready', 'ready', ['creating']),
      'rolled it back (the user was dropped)',
    ],
    [
      'a reset the reconciler finished',
      task('reset_password'),
      found('ready', 'ready', ['resetting']),
      'success',
    ],
    [
      'a reset without a trace',
      task('reset_password'),
      found('ready', 'ready'),
      'before the task finished',
    ],
    [
      'a credential drop the reconciler finished',
      task('delete_credential'),
      found('ready', 'ready', ['deleting']),
      'success',
    ],
    [
      'a restore that never started its change',
      task('restore_database'),
      found('quarantined', 'quarantined'),
      'before the task changed anything',
    ],
    [
      'a delete that never changed anything',
      task('delete_database'),
      found('quarantined', 'quarantined'),
      'before the task changed anything',
    ],
    [
      'a credential create without a trace',
      task('create_credential'),
      found('ready', 'ready'),
      'before the task finished',
    ],
    [
      'a credential drop without a trace',
      task('delete_credential'),
      found('ready', 'ready', ['resetting']),
      'before the task finished',
    ],
    [
      'a task type with no rule of its own (a repair)',
      task('repair_credential'),
      found('ready', 'ready', ['deleting']),
      'before the task finished',
    ],
    [
      'a task that only waited',
      task('create_database', 'waiting'),
      found('ready', 'ready'),
      'it never started',
    ],
  ])('%s', (_name, interrupted, database, expected) => {
    // The table says 'success' or a phrase of the error.
    expect(sut(interrupted, database)).toEqual(expected === 'success' ? ok : failed(expected));
  });

  it('says the process ended, in every error', () => {
    expect(sut(task('create_credential'), found('ready', 'ready', ['creating']))).toEqual({
      status: 'error',
      error:
        'Interrupted: the API process ended during the credential create; the reconciler rolled it back (the user was dropped).',
    });
  });
});
