import { CredentialsService } from '@dbaas/credentials';
import {
  HeldLock,
  InterruptedTask,
  LockStrategy,
  OperationRunner,
  TaskHistory,
  TaskRecord,
} from '@dbaas/operations';
import { CredentialStatus, DatabaseStatus } from '@dbaas/persistence';
import { Logger } from '@nestjs/common';
import { DatabaseRepository, DatabaseRow } from './database.repository';
import { DatabasesService } from './databases.service';
import { LifecycleReconciler } from './lifecycle-reconciler.service';
import { RecoveryHooks } from './recovery-hooks';

const database = (status: DatabaseStatus, id = 5, name = 'orders') =>
  ({ id, name, status, environmentId: 1, teamId: 1, infraId: 3 }) as DatabaseRow;

describe('LifecycleReconciler', () => {
  let log: string[];
  let stored: Map<number, DatabaseRow>;
  /** Credentials with work in flight, by database. */
  let credentialWork: { databaseId: number; status: CredentialStatus }[];
  let databases: jest.Mocked<Pick<DatabaseRepository, 'inStates' | 'findRows' | 'findRow'>>;
  let databaseService: jest.Mocked<Pick<DatabasesService, 'destroy' | 'transition' | 'isOnEngine'>>;
  /** Names of the databases missing on their engine. */
  let missing: string[];
  let credentialService: jest.Mocked<
    Pick<
      CredentialsService,
      'restoreAll' | 'revokeAll' | 'reconcile' | 'databasesWithUnfinishedWork' | 'unfinishedStates'
    >
  >;
  let locks: jest.Mocked<LockStrategy>;
  let history: jest.Mocked<
    Pick<TaskHistory, 'open' | 'started' | 'succeeded' | 'failed' | 'interrupted' | 'close'>
  >;
  let sut: LifecycleReconciler;
  const held: HeldLock = { release: async () => undefined };

  /** The store holds these rows; the reconciler's listing finds the unfinished ones. */
  const given = (...rows: DatabaseRow[]) => {
    for (const row of rows) stored.set(row.id, row);
  };

  beforeEach(() => {
    log = [];
    stored = new Map();
    credentialWork = [];
    missing = [];
    databases = {
      inStates: jest.fn(async (states) =>
        [...stored.values()].filter((row) => states.includes(row.status)),
      ),
      findRows: jest.fn(async (ids) => [...stored.values()].filter((row) => ids.includes(row.id))),
      findRow: jest.fn(async (id) => {
        const row = stored.get(id);
        return row ? { ...row } : null;
      }),
    };
    databaseService = {
      destroy: jest.fn(async (row) => {
        stored.delete(row.id);
        log.push(`destroy ${row.name}`);
      }),
      transition: jest.fn(async (row, to, extra) => {
        const date = extra?.quarantineDt;
        log.push(`${row.id} ${to}${date === undefined ? '' : ` ${date}`}`);
        stored.set(row.id, { ...stored.get(row.id)!, status: to });
      }),
      isOnEngine: jest.fn(async (row) => !missing.includes(row.name)),
    };
    credentialService = {
      restoreAll: jest.fn(
        async (row, fresh) =>
          void log.push(`restore ${row.name} ${fresh ? 'new' : 'stored'} passwords`),
      ),
      revokeAll: jest.fn(async (row) => void log.push(`revoke ${row.name}`)),
      reconcile: jest.fn(async (row) => void log.push(`credentials of ${row.name}`)),
      databasesWithUnfinishedWork: jest.fn(async () => [
        ...new Set(credentialWork.map((c) => c.databaseId)),
      ]),
      unfinishedStates: jest.fn(async (id) =>
        credentialWork.filter((c) => c.databaseId === id).map((c) => c.status),
      ),
    };
    locks = {
      acquire: jest.fn(async (_key: string) => held),
      tryAcquire: jest.fn(async (_key: string): Promise<HeldLock | null> => held),
    };
    history = {
      open: jest.fn(async (subject) => ({ id: 1, ...subject }) as unknown as TaskRecord),
      started: jest.fn(async (_task) => undefined),
      succeeded: jest.fn(async (_task) => true),
      failed: jest.fn(async (_task, _error) => true),
      interrupted: jest.fn(async () => []),
      close: jest.fn(
        async (task, outcome) => void log.push(`task ${task.id} ${JSON.stringify(outcome)}`),
      ),
    };
    sut = new LifecycleReconciler(
      databases as unknown as DatabaseRepository,
      databaseService as unknown as DatabasesService,
      credentialService as unknown as CredentialsService,
      new OperationRunner(locks, history as unknown as TaskHistory),
      history as unknown as TaskHistory,
      new RecoveryHooks(),
    );
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  const interrupted = (task: Partial<InterruptedTask>): InterruptedTask => ({
    id: 40,
    type: 'create_database',
    status: 'running',
    databaseId: 5,
    databaseName: 'orders',
    ...task,
  });

  it('rolls back a create and finishes a delete: neither was acknowledged as done', async () => {
    given(database('creating', 5, 'orders'), database('deleting', 6, 'billing'));

    await expect(sut.reconcileAll()).resolves.toEqual(['orders', 'billing']);

    expect(log).toEqual(['destroy orders', 'destroy billing']);
  });

  it('gives an interrupted quarantine its stored passwords back, and sends an interrupted restore back to quarantine', async () => {
    given(database('quarantining', 5, 'orders'), database('restoring', 6, 'billing'));

    await sut.reconcileAll();

    expect(log).toEqual([
      'restore orders stored passwords',
      '5 ready null',
      'revoke billing',
      '6 quarantined',
    ]);
  });

  it('sends an interrupted quarantine of a database missing on its engine (a lost one) back to lost, with no access to give back', async () => {
    given(database('quarantining', 5, 'orders'));
    missing = ['orders'];
    history.interrupted.mockResolvedValue([interrupted({ type: 'quarantine_database' })]);

    await expect(sut.reconcileAll()).resolves.toEqual(['orders']);

    expect(credentialService.restoreAll).not.toHaveBeenCalled();
    expect(log).toEqual([
      '5 lost null',
      `task 40 ${JSON.stringify({ status: 'error', error: 'Interrupted: the API process ended during the quarantine; the reconciler rolled it back (still lost: missing on its engine).' })}`,
    ]);
    // Settled: the next round leaves it alone (and a DELETE may quarantine it again).
    log = [];
    history.interrupted.mockResolvedValue([]);
    await expect(sut.reconcileAll()).resolves.toEqual([]);
    expect(log).toEqual([]);
    expect(stored.get(5)?.status).toBe('lost');
  });

  it('records each convergence as a system task naming the state it found', async () => {
    given(database('creating'));

    await sut.reconcileAll();

    expect(history.open).toHaveBeenCalledWith(
      expect.objectContaining({
        type: 'reconcile_database',
        userId: null,
        databaseId: 5,
        origin: 'reconciler: creating',
      }),
    );
    expect(history.succeeded).toHaveBeenCalled();
  });

  it('never touches a database whose lock another process holds', async () => {
    given(database('creating'));
    locks.tryAcquire.mockResolvedValue(null);

    await expect(sut.reconcileAll()).resolves.toEqual([]);

    expect(databaseService.destroy).not.toHaveBeenCalled();
  });

  it('goes on past a database it cannot converge now, and records the failure', async () => {
    given(database('creating', 5, 'orders'), database('creating', 6, 'billing'));
    databaseService.destroy.mockImplementation(async (row) => {
      if (row.id === 5) throw new Error('engine down');
      log.push(`destroy ${row.name}`);
    });

    await expect(sut.reconcileAll()).resolves.toEqual(['billing']);

    expect(history.failed).toHaveBeenCalledWith(
      expect.anything(),
      expect.objectContaining({ message: 'engine down' }),
    );
    expect(log).toEqual(['destroy billing']);
  });

  it('finishes credential work on a database that is itself ready', async () => {
    stored.set(5, database('ready'));
    credentialWork = [{ databaseId: 5, status: 'creating' }];

    await sut.reconcileAll();

    expect(log).toEqual(['credentials of orders']);
  });

  it('closes the task of a create it rolls back as an error saying so, once the rollback is done', async () => {
    given(database('creating'));
    history.interrupted.mockResolvedValue([interrupted({})]);

    await sut.reconcileAll();

    expect(log).toEqual([
      'destroy orders',
      `task 40 ${JSON.stringify({ status: 'error', error: 'Interrupted: the API process ended during the create; the reconciler rolled it back (the database was dropped).' })}`,
    ]);
  });

  it('closes the task of a create that finished (only its mark was lost) as a success, converging nothing', async () => {
    stored.set(5, database('ready'));
    history.interrupted.mockResolvedValue([interrupted({})]);

    await sut.reconcileAll();

    expect(log).toEqual([`task 40 ${JSON.stringify({ status: 'success' })}`]);
    expect(history.open).not.toHaveBeenCalled();
  });

  it('converges nothing on a lost database for its interrupted task: there is no work to finish on the engine', async () => {
    stored.set(5, database('lost'));
    history.interrupted.mockResolvedValue([interrupted({ type: 'reset_password' })]);

    await sut.reconcileAll();

    expect(history.open).not.toHaveBeenCalled();
    expect(credentialService.reconcile).not.toHaveBeenCalled();
    expect(history.close).toHaveBeenCalledTimes(1);
  });

  it('closes an interrupted quarantine it rolls back as an error, and a finished password reset as a success', async () => {
    given(database('quarantining', 5, 'orders'));
    stored.set(6, database('ready', 6, 'billing'));
    credentialWork = [{ databaseId: 6, status: 'resetting' }];
    history.interrupted.mockResolvedValue([
      interrupted({ id: 41, type: 'quarantine_database' }),
      interrupted({ id: 42, type: 'reset_password', databaseId: 6, databaseName: 'billing' }),
    ]);

    await sut.reconcileAll();

    expect(history.close).toHaveBeenCalledWith(expect.objectContaining({ id: 41 }), {
      status: 'error',
      error: expect.stringContaining('rolled it back (access restored)'),
    });
    expect(history.close).toHaveBeenCalledWith(expect.objectContaining({ id: 42 }), {
      status: 'success',
    });
    // Each task once, in the round of its own database.
    expect(history.close).toHaveBeenCalledTimes(2);
  });

  it('closes tasks without a database row: a create that never wrote one, a waiting delete', async () => {
    history.interrupted.mockResolvedValue([
      interrupted({ id: 43, databaseId: null }),
      interrupted({ id: 44, type: 'delete_database', status: 'waiting', databaseId: 9 }),
    ]);

    await sut.reconcileAll();

    expect(history.close).toHaveBeenCalledWith(expect.objectContaining({ id: 43 }), {
      status: 'error',
      error: expect.stringContaining('nothing was created'),
    });
    expect(history.close).toHaveBeenCalledWith(expect.objectContaining({ id: 44 }), {
      status: 'error',
      error: expect.stringContaining('it never started'),
    });
    // Only the ids of real rows are looked up (a task without a database names none).
    expect(databases.findRows).toHaveBeenCalledWith([9]);
  });

  it('leaves the tasks of a database it cannot converge now, or whose lock is held, for a later round', async () => {
    given(database('creating', 5, 'orders'), database('creating', 6, 'billing'));
    databaseService.destroy.mockRejectedValueOnce(new Error('engine down'));
    locks.tryAcquire.mockImplementation(async (key) => (key.endsWith('billing') ? null : held));
    history.interrupted.mockResolvedValue([
      interrupted({ id: 45 }),
      interrupted({ id: 46, databaseId: 6, databaseName: 'billing' }),
    ]);

    await sut.reconcileAll();

    expect(history.close).not.toHaveBeenCalled();
  });
});
