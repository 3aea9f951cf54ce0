import { SecretBox } from '@dbaas/core';
import { ConnectedInfra, EngineProvider, InfraAccess, InfraTarget } from '@dbaas/engines';
import { CredentialsService, SealedCredential } from '@dbaas/credentials';
import {
  HeldLock,
  LockStrategy,
  OperationRunner,
  TaskHistory,
  TaskRecord,
} from '@dbaas/operations';
import { CredentialStatus, DatabaseStatus } from '@dbaas/persistence';
import { Logger } from '@nestjs/common';
import { DatabaseRepository, DatabaseRow } from './database.repository';
import { DatabasesService } from './databases.service';
import { BUSY_LOCK_PAUSE_MS, BUSY_LOCK_RETRIES, DriftRepair } from './drift-repair.service';

const database = (id: number, name: string, status: DatabaseStatus = 'ready') =>
  ({ id, name, status, environmentId: 1, teamId: 2, infraId: 3 }) as DatabaseRow;
const credential = (
  id: number,
  databaseId: number,
  user: string,
  status: CredentialStatus = 'ready',
) =>
  ({
    id,
    databaseId,
    user,
    status,
    privileges: 'owner',
    passwordEncrypted: `sealed:pw-${user}`,
  }) as SealedCredential;

describe('DriftRepair', () => {
  let stored: Map<number, DatabaseRow>;
  let credentialRows: SealedCredential[];
  let onEngine: { users: string[]; databases: string[] };
  let databases: jest.Mocked<Pick<DatabaseRepository, 'inStates' | 'findRow'>>;
  let credentials: jest.Mocked<
    Pick<CredentialsService, 'readyOfDatabases' | 'sealedOfDatabase' | 'limitsOf'>
  >;
  let databaseService: jest.Mocked<Pick<DatabasesService, 'transition'>>;
  let provider: jest.Mocked<
    Pick<EngineProvider, 'listUsers' | 'listDatabases' | 'createUser' | 'listsEveryDatabase'>
  >;
  let infras: jest.Mocked<Pick<InfraAccess, 'connect'>>;
  let locks: jest.Mocked<LockStrategy>;
  const held: HeldLock = { release: async () => undefined };
  let history: jest.Mocked<Pick<TaskHistory, 'open' | 'started' | 'succeeded' | 'failed'>>;
  let sut: DriftRepair;
  const target: InfraTarget = { id: 3, addresses: ['h:1'], adminUser: 'a', adminPassword: 'p' };

  beforeEach(() => {
    stored = new Map([
      [1, database(1, 'orders')],
      [2, database(2, 'stock')],
    ]);
    credentialRows = [credential(10, 1, 'u_orders'), credential(20, 2, 'u_stock')];
    onEngine = { users: ['u_orders', 'u_stock'], databases: ['orders', 'stock'] };
    databases = {
      inStates: jest.fn(async (states) =>
        [...stored.values()].filter((d) => states.includes(d.status)),
      ),
      findRow: jest.fn(async (id) => stored.get(id) ?? null),
    };
    credentials = {
      readyOfDatabases: jest.fn(async (ids) =>
        credentialRows.filter((c) => c.status === 'ready' && ids.includes(c.databaseId)),
      ),
      sealedOfDatabase: jest.fn(async (id, status) =>
        credentialRows.filter((c) => c.databaseId === id && c.status === status),
      ),
      limitsOf: jest.fn(async (_database) => ({ maxConnections: 5 })),
    };
    databaseService = {
      transition: jest.fn(async (row, to) => {
        stored.set(row.id, { ...stored.get(row.id)!, status: to });
      }),
    };
    provider = {
      listsEveryDatabase: true,
      listUsers: jest.fn(async (_infra: InfraTarget) => onEngine.users),
      listDatabases: jest.fn(async (_infra: InfraTarget) => onEngine.databases),
      createUser: jest.fn(async (_infra, spec) => void onEngine.users.push(spec.user)),
    };
    infras = {
      connect: jest.fn(
        async (_id: number) => ({ infra: {}, provider, target }) as unknown as ConnectedInfra,
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
    };
    const secrets = { decrypt: (sealed: string) => sealed.replace('sealed:', '') };
    sut = new DriftRepair(
      databases as unknown as DatabaseRepository,
      databaseService as unknown as DatabasesService,
      credentials as unknown as CredentialsService,
      infras as unknown as InfraAccess,
      new OperationRunner(locks, history as unknown as TaskHistory),
      secrets as unknown as SecretBox,
    );
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  it('changes nothing when the engine has everything the store says is ready', async () => {
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: [], found: [] });
    expect(locks.tryAcquire).not.toHaveBeenCalled();
    expect(provider.createUser).not.toHaveBeenCalled();
    expect(history.open).not.toHaveBeenCalled();
    expect(credentials.readyOfDatabases).toHaveBeenCalledWith([1, 2]);
  });

  it('recreates a missing ready credential with its stored password and privileges, as a task', async () => {
    credentialRows.push(credential(11, 1, 'u_orders_ro'));
    onEngine.users = ['u_stock', 'u_orders_ro'];
    await expect(sut.repairAll()).resolves.toEqual({
      repaired: ['orders/u_orders'],
      lost: [],
      found: [],
    });
    expect(provider.createUser).toHaveBeenCalledWith(target, {
      database: 'orders',
      user: 'u_orders',
      password: 'pw-u_orders',
      privileges: 'owner',
      maxConnections: 5,
    });
    expect(locks.tryAcquire).toHaveBeenCalledTimes(1);
    expect(history.open).toHaveBeenCalledWith(
      expect.objectContaining({
        type: 'repair_credential',
        databaseId: 1,
        teamId: 2,
        userId: null,
      }),
    );
    expect(history.succeeded).toHaveBeenCalledTimes(1);
  });

  it('leaves a credential alone that stopped being ready before the lock was taken', async () => {
    onEngine.users = ['u_stock'];
    // A delete got in between the listing and the lock: the credential is `deleting` now.
    locks.tryAcquire.mockImplementation(async () => {
      credentialRows[0].status = 'deleting';
      return held;
    });
    await expect(sut.repairAll()).resolves.toMatchObject({ repaired: [] });
    expect(provider.createUser).not.toHaveBeenCalled();
  });

  it('leaves a database alone that started being deleted before the lock was taken', async () => {
    onEngine.users = ['u_stock'];
    // The delete has dropped the user on the engine, not yet the database; the credential rows
    // are still ready.
    locks.tryAcquire.mockImplementation(async () => {
      stored.set(1, { ...stored.get(1)!, status: 'deleting' });
      return held;
    });
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: [], found: [] });
    expect(provider.createUser).not.toHaveBeenCalled();
    expect(databaseService.transition).not.toHaveBeenCalled();
  });

  it('does nothing on a database whose lock another process holds', async () => {
    onEngine.users = ['u_stock'];
    locks.tryAcquire.mockResolvedValue(null);
    await expect(sut.repairAll()).resolves.toMatchObject({ repaired: [] });
    expect(provider.createUser).not.toHaveBeenCalled();
    expect(locks.tryAcquire).toHaveBeenCalledTimes(1 + BUSY_LOCK_RETRIES);
  });

  it('tries a database whose lock is busy again within the round, and repairs it once free', async () => {
    // The size check, on a period that can fall in step with the reconciler's, holds the
    // lock for a moment each round: drift repair must not pass the database by every time.
    onEngine.users = ['u_stock'];
    const tried: number[] = [];
    locks.tryAcquire.mockImplementation(async () => {
      tried.push(Date.now());
      return tried.length > 2 ? held : null;
    });
    await expect(sut.repairAll()).resolves.toMatchObject({ repaired: ['orders/u_orders'] });
    expect(tried).toHaveLength(3);
    expect(provider.createUser).toHaveBeenCalledTimes(1);
    // A pause between tries (a lower bound only: a loaded machine makes it longer).
    expect(tried[1] - tried[0]).toBeGreaterThanOrEqual(BUSY_LOCK_PAUSE_MS - 5);
    expect(tried[2] - tried[1]).toBeGreaterThanOrEqual(BUSY_LOCK_PAUSE_MS - 5);
  });

  it('retries busy databases once per round, after every infra had its first pass', async () => {
    stored.set(2, { ...database(2, 'stock'), infraId: 4 });
    onEngine.users = [];
    const tried: string[] = [];
    locks.tryAcquire.mockImplementation(async (key) => {
      tried.push(key);
      return tried.length > 2 ? held : null;
    });
    await expect(sut.repairAll()).resolves.toMatchObject({
      repaired: ['orders/u_orders', 'stock/u_stock'],
    });
    expect(infras.connect.mock.calls.map(([id]) => id)).toEqual([3, 4]);
    expect(tried).toEqual([
      expect.stringContaining('orders'),
      expect.stringContaining('stock'),
      expect.stringContaining('orders'),
      expect.stringContaining('stock'),
    ]);
  });

  it('marks a database missing on its engine lost, and ready again once it is back', async () => {
    onEngine = { users: ['u_stock'], databases: ['stock'] };
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: ['orders'], found: [] });
    expect(stored.get(1)!.status).toBe('lost');
    expect(provider.createUser).not.toHaveBeenCalled();
    locks.tryAcquire.mockClear();
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: [], found: [] });
    expect(locks.tryAcquire).not.toHaveBeenCalled(); // still missing: nothing to do

    onEngine.databases.push('orders');
    await expect(sut.repairAll()).resolves.toEqual({
      repaired: ['orders/u_orders'],
      lost: [],
      found: ['orders'],
    });
    expect(stored.get(1)!.status).toBe('ready');
    expect(history.open.mock.calls.map(([task]) => task.type)).toEqual([
      'reconcile_database',
      'reconcile_database',
      'repair_credential',
    ]);
  });

  it('never calls a database lost on an engine whose lists cannot prove it (Redis, MongoDB)', async () => {
    Object.assign(provider, { listsEveryDatabase: false });
    onEngine.databases = [];
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: [], found: [] });
    expect(provider.listDatabases).not.toHaveBeenCalled();
    expect(locks.tryAcquire).not.toHaveBeenCalled();

    onEngine.users = ['u_stock'];
    await expect(sut.repairAll()).resolves.toEqual({
      repaired: ['orders/u_orders'],
      lost: [],
      found: [],
    });
  });

  it('skips an unreachable infra and a failed repair, and records the failure', async () => {
    infras.connect.mockRejectedValueOnce(new Error('down'));
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: [], found: [] });

    onEngine.users = ['u_stock'];
    provider.createUser.mockRejectedValueOnce(new Error('refused'));
    await expect(sut.repairAll()).resolves.toMatchObject({ repaired: [] });
    expect(history.failed).toHaveBeenCalledWith(expect.anything(), new Error('refused'));
    // A failed repair waits for the next round: it is not one of the busy ones tried again.
    expect(provider.createUser).toHaveBeenCalledTimes(1);
  });
});
