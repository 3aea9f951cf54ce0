import { CredentialsService } from '@dbaas/credentials';
import { DatabaseLocks, TaskHistory } from '@dbaas/operations';
import { CredentialEntity, DatabaseEntity, DatabaseStatus, TaskEntity } from '@dbaas/persistence';
import { Logger } from '@nestjs/common';
import { Repository } from 'typeorm';
import { DatabasesService } from './databases.service';
import { LifecycleReconciler } from './lifecycle-reconciler.service';

const database = (status: DatabaseStatus, id = 5, name = 'orders') =>
  ({ id, name, status, environmentId: 1, teamId: 1, infraId: 3 }) as DatabaseEntity;

describe('LifecycleReconciler', () => {
  let log: string[];
  let stored: Map<number, DatabaseEntity>;
  let databases: jest.Mocked<Pick<Repository<DatabaseEntity>, 'find' | 'findOneBy'>>;
  let credentialRows: jest.Mocked<Pick<Repository<CredentialEntity>, 'find'>>;
  let databaseService: jest.Mocked<Pick<DatabasesService, 'destroy' | 'setStatus'>>;
  let credentialService: jest.Mocked<
    Pick<CredentialsService, 'restoreAll' | 'revokeAll' | 'reconcile'>
  >;
  let locks: jest.Mocked<Pick<DatabaseLocks, 'tryWithLock'>>;
  let history: jest.Mocked<
    Pick<TaskHistory, 'open' | 'started' | 'succeeded' | 'failed' | 'closeInterrupted'>
  >;
  let sut: LifecycleReconciler;

  /** The store holds these rows; the reconciler's listing finds the unfinished ones. */
  const given = (...rows: DatabaseEntity[]) => {
    for (const row of rows) stored.set(row.id, row);
    databases.find.mockResolvedValue(
      rows.filter((row) => !['ready', 'quarantined'].includes(row.status)),
    );
  };

  beforeEach(() => {
    log = [];
    stored = new Map();
    databases = {
      find: jest.fn(async () => []),
      findOneBy: jest.fn(async (where) => stored.get((where as { id: number }).id) ?? null),
    };
    credentialRows = { find: jest.fn(async () => []) };
    databaseService = {
      destroy: jest.fn(async (row) => void log.push(`destroy ${row.name}`)),
      setStatus: jest.fn(
        async (id, status, date) =>
          void log.push(`${id} ${status}${date === undefined ? '' : ` ${date}`}`),
      ),
    };
    credentialService = {
      restoreAll: jest.fn(
        async (row, fresh) =>
          void log.push(`restore ${row.name} ${fresh ? 'new' : 'stored'} passwords`),
      ),
      revokeAll: jest.fn(async (row) => void log.push(`revoke ${row.name}`)),
      reconcile: jest.fn(async (row) => void log.push(`credentials of ${row.name}`)),
    };
    locks = {
      tryWithLock: jest.fn((_key: string, work: () => Promise<unknown>) =>
        work(),
      ) as jest.Mocked<DatabaseLocks>['tryWithLock'],
    };
    history = {
      open: jest.fn(async (subject) => ({ id: 1, ...subject }) as unknown as TaskEntity),
      started: jest.fn(async (_task) => undefined),
      succeeded: jest.fn(async (_task) => undefined),
      failed: jest.fn(async (_task, _error) => undefined),
      closeInterrupted: jest.fn(async () => 0),
    };
    sut = new LifecycleReconciler(
      databases as unknown as Repository<DatabaseEntity>,
      credentialRows as unknown as Repository<CredentialEntity>,
      databaseService as unknown as DatabasesService,
      credentialService as unknown as CredentialsService,
      locks as unknown as DatabaseLocks,
      history as unknown as TaskHistory,
    );
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

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
    locks.tryWithLock.mockResolvedValue(undefined);

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
    const ready = database('ready');
    stored.set(ready.id, ready);
    credentialRows.find.mockResolvedValue([
      { id: 1, status: 'creating', database: ready } as CredentialEntity,
    ]);

    await sut.reconcileAll();

    expect(log).toEqual(['credentials of orders']);
  });

  it('closes the tasks a dead process left open', async () => {
    history.closeInterrupted.mockResolvedValue(2);

    await sut.reconcileAll();

    expect(history.closeInterrupted).toHaveBeenCalled();
  });
});
