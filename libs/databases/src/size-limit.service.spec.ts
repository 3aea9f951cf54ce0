import { ConnectedInfra, EngineProvider, InfraAccess, InfraTarget } from '@dbaas/engines';
import { CredentialsService, SealedCredential } from '@dbaas/credentials';
import {
  HeldLock,
  LockStrategy,
  OperationRunner,
  TaskHistory,
  TaskRecord,
  TaskSubject,
} from '@dbaas/operations';
import { CredentialStatus } from '@dbaas/persistence';
import { Logger } from '@nestjs/common';
import { DatabaseRepository, SizeLimitRow } from './database.repository';
import { DatabasesService } from './databases.service';
import { SizeLimitCheck } from './size-limit.service';

const MiB = 1024 * 1024;
const database = (id: number, name: string, limit: number, over = false) =>
  ({
    id,
    name,
    status: 'ready',
    environmentId: 1,
    teamId: 2,
    infraId: 3,
    sizeLimitInBytes: limit,
    overSizeLimit: over,
  }) as SizeLimitRow;
const credential = (user: string, status: CredentialStatus = 'ready') =>
  ({ id: 1, databaseId: 1, user, status, privileges: 'owner' }) as SealedCredential;

describe('SizeLimitCheck', () => {
  let stored: Map<number, SizeLimitRow>;
  let sizes: Map<string, number | null>;
  let locked: Set<string>;
  let calls: string[];
  let tasks: TaskSubject[];
  let provider: jest.Mocked<
    Pick<EngineProvider, 'restrictWrites' | 'allowWrites' | 'enforcesSizeLimit'>
  >;
  let databases: { underSizeLimits: jest.Mock; setOverSizeLimit: jest.Mock };
  let databaseService: { measureNow: jest.Mock };
  let sut: SizeLimitCheck;
  const target: InfraTarget = { id: 3, addresses: ['h:1'], adminUser: 'a', adminPassword: 'p' };

  beforeEach(() => {
    stored = new Map([
      [1, database(1, 'orders', MiB)],
      [2, database(2, 'stock', MiB, true)],
    ]);
    sizes = new Map([
      ['orders', 2 * MiB],
      ['stock', 100],
    ]);
    locked = new Set();
    calls = [];
    tasks = [];
    databases = {
      underSizeLimits: jest.fn(async (id?: number) =>
        [...stored.values()].filter((d) => id === undefined || d.id === id),
      ),
      setOverSizeLimit: jest.fn(async (id: number, over: boolean) => {
        calls.push(`mark ${stored.get(id)!.name} ${over}`);
        stored.set(id, { ...stored.get(id)!, overSizeLimit: over });
      }),
    };
    databaseService = {
      measureNow: jest.fn(async (row: SizeLimitRow) => sizes.get(row.name) ?? null),
    };
    const credentials = {
      sealedOfDatabase: jest.fn(async (id: number) => [
        credential(`u_${id}`),
        credential(`ro_${id}`),
        credential(`gone_${id}`, 'deleting'),
      ]),
    };
    provider = {
      enforcesSizeLimit: true,
      restrictWrites: jest.fn(async (_t, name, users) => {
        calls.push(`restrict ${name} ${users.map((u) => u.user).join(',')}`);
      }),
      allowWrites: jest.fn(async (_t, name, users) => {
        calls.push(`allow ${name} ${users.map((u) => u.user).join(',')}`);
      }),
    };
    const infras = {
      connect: jest.fn(async () => ({ infra: {}, provider, target }) as unknown as ConnectedInfra),
    };
    const held: HeldLock = { release: async () => undefined };
    const locks = {
      acquire: jest.fn(async () => held),
      tryAcquire: jest.fn(async (key: string) => (locked.has(key) ? null : held)),
    } as unknown as LockStrategy;
    const history = {
      open: jest.fn(async (subject: TaskSubject) => {
        tasks.push(subject);
        return { id: tasks.length, ...subject } as unknown as TaskRecord;
      }),
      started: jest.fn(async () => undefined),
      succeeded: jest.fn(async () => undefined),
      failed: jest.fn(async () => undefined),
    };
    sut = new SizeLimitCheck(
      databases as unknown as DatabaseRepository,
      databaseService as unknown as DatabasesService,
      credentials as unknown as CredentialsService,
      infras as unknown as InfraAccess,
      new OperationRunner(locks, history as unknown as TaskHistory),
    );
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  it('blocks writes of a database over its limit and gives them back to one under it, engine first', async () => {
    const report = await sut.checkAll();
    expect(report).toEqual({ restricted: ['orders'], allowed: ['stock'] });
    expect(calls).toEqual([
      'restrict orders u_1,ro_1',
      'mark orders true',
      'allow stock u_2,ro_2',
      'mark stock false',
    ]);
    expect(tasks).toEqual([
      expect.objectContaining({ type: 'restrict_writes', databaseId: 1, userId: null }),
      expect.objectContaining({ type: 'allow_writes', databaseId: 2, userId: null }),
    ]);
    expect(tasks[0].origin).toBe(`size limit: ${2 * MiB} of ${MiB} bytes used`);
  });

  it('changes nothing on a second round', async () => {
    await sut.checkAll();
    calls = [];
    tasks = [];
    expect(await sut.checkAll()).toEqual({ restricted: [], allowed: [] });
    expect(calls).toEqual([]);
    expect(tasks).toEqual([]);
  });

  it('leaves a database whose lock is held, or whose size is unknown, for the next round', async () => {
    locked.add('database:1:orders');
    sizes.set('stock', null);
    expect(await sut.checkAll()).toEqual({ restricted: [], allowed: [] });
    expect(calls).toEqual([]);
  });

  it('keeps the mark when the engine fails: the next round tries again', async () => {
    provider.restrictWrites.mockRejectedValueOnce(new Error('engine down'));
    expect(await sut.checkAll()).toEqual({ restricted: [], allowed: ['stock'] });
    expect(stored.get(1)!.overSizeLimit).toBe(false);
    expect(await sut.checkAll()).toEqual({ restricted: ['orders'], allowed: [] });
    expect(stored.get(1)!.overSizeLimit).toBe(true);
  });

  it('undoes the engine change when the mark cannot be written: engine and store agree, even if the size then falls', async () => {
    databases.setOverSizeLimit.mockRejectedValueOnce(new Error('store blip'));
    stored.delete(2);
    expect(await sut.checkAll()).toEqual({ restricted: [], allowed: [] });
    expect(calls).toEqual(['restrict orders u_1,ro_1', 'allow orders u_1,ro_1']);
    expect(stored.get(1)!.overSizeLimit).toBe(false);

    // The tenant deletes back under the limit: nothing to do, and nothing is left blocked.
    sizes.set('orders', 100);
    calls = [];
    expect(await sut.checkAll()).toEqual({ restricted: [], allowed: [] });
    expect(calls).toEqual([]);
  });

  it('undoes an allow_writes whose mark cannot be written: the limit is enforced again', async () => {
    databases.setOverSizeLimit.mockRejectedValueOnce(new Error('store blip'));
    stored.delete(1);
    expect(await sut.checkAll()).toEqual({ restricted: [], allowed: [] });
    expect(calls).toEqual(['allow stock u_2,ro_2', 'restrict stock u_2,ro_2']);
    expect(stored.get(2)!.overSizeLimit).toBe(true);
  });

  it('gives writes back when the plan has no limit any more, without measuring', async () => {
    stored.set(1, database(1, 'orders', 0, true));
    stored.delete(2);
    expect(await sut.checkAll()).toEqual({ restricted: [], allowed: ['orders'] });
    expect(tasks[0].origin).toBe('size limit: the plan has none any more');
    expect(databaseService.measureNow).not.toHaveBeenCalled();
  });

  it('leaves engines that do not enforce size limits alone', async () => {
    Object.assign(provider, { enforcesSizeLimit: false });
    expect(await sut.checkAll()).toEqual({ restricted: [], allowed: [] });
    expect(calls).toEqual([]);
  });

  it('does nothing with a database gone or no longer under a limit by the time it is locked', async () => {
    expect(await sut.checkLocked(9)).toBeNull();
    expect(calls).toEqual([]);
    expect(tasks).toEqual([]);
  });

  it('logs engine and mark apart when the undo fails too, and goes on with the next database', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    databases.setOverSizeLimit.mockRejectedValueOnce(new Error('store blip'));
    provider.allowWrites.mockRejectedValueOnce(new Error('engine down'));

    expect(await sut.checkAll()).toEqual({ restricted: [], allowed: ['stock'] });
    expect(error).toHaveBeenCalledWith(
      "Size limit: orders's engine state and its over_size_limit mark disagree: engine down",
    );
  });
});
