import { SecretBox } from '@dbaas/core';
import { ConnectedInfra, EngineProvider, InfraAccess, InfraTarget } from '@dbaas/engines';
import { DatabaseLocks, TaskHistory } from '@dbaas/operations';
import { CredentialEntity, DatabaseEntity, DatabaseStatus, TaskEntity } from '@dbaas/persistence';
import { Logger } from '@nestjs/common';
import { Repository } from 'typeorm';
import { DatabasesService } from './databases.service';
import { DriftRepair } from './drift-repair.service';

const database = (id: number, name: string, status: DatabaseStatus = 'ready') =>
  ({ id, name, status, environmentId: 1, teamId: 2, infraId: 3 }) as DatabaseEntity;
const credential = (id: number, databaseId: number, user: string, status = 'ready') =>
  ({
    id,
    databaseId,
    user,
    status,
    privileges: 'owner',
    passwordEncrypted: `sealed:pw-${user}`,
  }) as CredentialEntity;

describe('DriftRepair', () => {
  let stored: Map<number, DatabaseEntity>;
  let credentialRows: CredentialEntity[];
  let onEngine: { users: string[]; databases: string[] };
  let databases: jest.Mocked<Pick<Repository<DatabaseEntity>, 'find' | 'findOneBy'>>;
  let credentials: jest.Mocked<Pick<Repository<CredentialEntity>, 'find'>>;
  let databaseService: jest.Mocked<Pick<DatabasesService, 'setStatus'>>;
  let provider: jest.Mocked<
    Pick<EngineProvider, 'listUsers' | 'listDatabases' | 'createUser' | 'listsEveryDatabase'>
  >;
  let infras: jest.Mocked<Pick<InfraAccess, 'connect'>>;
  let locks: jest.Mocked<Pick<DatabaseLocks, 'tryWithLock'>>;
  let history: jest.Mocked<Pick<TaskHistory, 'open' | 'started' | 'succeeded' | 'failed'>>;
  let sut: DriftRepair;
  const target: InfraTarget = { id: 3, addresses: ['h:1'], adminUser: 'a', adminPassword: 'p' };

  /** The credential rows the store holds, filtered as the service asks for them. */
  const matching = (where: Record<string, unknown>) =>
    credentialRows.filter(
      (row) =>
        row.status === where.status &&
        (typeof where.databaseId === 'number' ? row.databaseId === where.databaseId : true),
    );

  beforeEach(() => {
    stored = new Map([
      [1, database(1, 'orders')],
      [2, database(2, 'stock')],
    ]);
    credentialRows = [credential(10, 1, 'u_orders'), credential(20, 2, 'u_stock')];
    onEngine = { users: ['u_orders', 'u_stock'], databases: ['orders', 'stock'] };
    databases = {
      find: jest.fn(async () =>
        [...stored.values()].filter((d) => ['ready', 'lost'].includes(d.status)),
      ),
      findOneBy: jest.fn(async (where) => stored.get((where as { id: number }).id) ?? null),
    };
    credentials = {
      find: jest.fn(async (options) => matching((options?.where ?? {}) as Record<string, unknown>)),
    };
    databaseService = {
      setStatus: jest.fn(async (id: number, status: DatabaseStatus) => {
        stored.set(id, { ...stored.get(id)!, status });
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
      tryWithLock: jest.fn((_key: string, work: () => Promise<unknown>) =>
        work(),
      ) as jest.Mocked<DatabaseLocks>['tryWithLock'],
    };
    history = {
      open: jest.fn(async (subject) => ({ id: 1, ...subject }) as unknown as TaskEntity),
      started: jest.fn(async (_task) => undefined),
      succeeded: jest.fn(async (_task) => undefined),
      failed: jest.fn(async (_task, _error) => undefined),
    };
    const secrets = { decrypt: (sealed: string) => sealed.replace('sealed:', '') };
    sut = new DriftRepair(
      databases as unknown as Repository<DatabaseEntity>,
      credentials as unknown as Repository<CredentialEntity>,
      databaseService as unknown as DatabasesService,
      infras as unknown as InfraAccess,
      locks as unknown as DatabaseLocks,
      history as unknown as TaskHistory,
      secrets as unknown as SecretBox,
    );
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  it('changes nothing when the engine has everything the store says is ready', async () => {
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: [], found: [] });
    expect(locks.tryWithLock).not.toHaveBeenCalled();
    expect(provider.createUser).not.toHaveBeenCalled();
    expect(history.open).not.toHaveBeenCalled();
  });

  it('recreates a missing ready credential with its stored password and privileges, as a task', async () => {
    onEngine.users = ['u_stock'];
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
    });
    expect(locks.tryWithLock).toHaveBeenCalledTimes(1);
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
    locks.tryWithLock.mockImplementation(async (_key, work) => {
      credentialRows[0].status = 'deleting';
      return work();
    });
    await expect(sut.repairAll()).resolves.toMatchObject({ repaired: [] });
    expect(provider.createUser).not.toHaveBeenCalled();
  });

  it('does nothing on a database whose lock another process holds', async () => {
    onEngine.users = ['u_stock'];
    locks.tryWithLock.mockResolvedValue(undefined);
    await expect(sut.repairAll()).resolves.toMatchObject({ repaired: [] });
    expect(provider.createUser).not.toHaveBeenCalled();
  });

  it('marks a database missing on its engine lost, and ready again once it is back', async () => {
    onEngine = { users: ['u_stock'], databases: ['stock'] };
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: ['orders'], found: [] });
    expect(stored.get(1)!.status).toBe('lost');
    expect(provider.createUser).not.toHaveBeenCalled();
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: [], found: [] });

    onEngine.databases.push('orders');
    await expect(sut.repairAll()).resolves.toEqual({
      repaired: ['orders/u_orders'],
      lost: [],
      found: ['orders'],
    });
    expect(stored.get(1)!.status).toBe('ready');
  });

  it('never calls a database lost on an engine whose lists cannot prove it (Redis, MongoDB)', async () => {
    Object.assign(provider, { listsEveryDatabase: false });
    onEngine.databases = [];
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: [], found: [] });
    expect(provider.listDatabases).not.toHaveBeenCalled();
  });

  it('skips an unreachable infra and a failed repair, and records the failure', async () => {
    infras.connect.mockRejectedValueOnce(new Error('down'));
    await expect(sut.repairAll()).resolves.toEqual({ repaired: [], lost: [], found: [] });

    onEngine.users = ['u_stock'];
    provider.createUser.mockRejectedValueOnce(new Error('refused'));
    await expect(sut.repairAll()).resolves.toMatchObject({ repaired: [] });
    expect(history.failed).toHaveBeenCalledWith(expect.anything(), new Error('refused'));
  });
});
