import { ConflictError, NoCapacityError } from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { EngineProvider, InfraAccess } from '@dbaas/engines';
import { databaseLockKey, OperationRunner, TaskRecord, TaskSubject } from '@dbaas/operations';
import { Logger } from '@nestjs/common';
import { DatabaseRecord, DatabaseRepository, DatabaseRow } from './database.repository';
import { DatabaseMoves, MoveEnd } from './database-moves.service';

/** endMove with fakes of the named methods it calls (the e2e moves real databases). */
describe('DatabaseMoves.endMove', () => {
  const row = {
    id: 7,
    name: 'shop',
    status: 'moving',
    infraId: 1,
    moveInfraId: 2,
    overSizeLimit: true,
  } as unknown as DatabaseRow;
  let log: string[];
  let credentials: Record<
    'usersOfOtherDatabases' | 'dropUsers' | 'claimOnInfra' | 'restoreAll',
    jest.Mock
  >;
  let sut: DatabaseMoves;

  beforeEach(() => {
    log = [];
    const databases = {
      findRow: jest.fn(async () => ({ ...row })),
      endMove: jest.fn(async () => void log.push('row ready')),
    };
    credentials = {
      usersOfOtherDatabases: jest.fn(async () => ['u_taken']),
      dropUsers: jest.fn(async (database: DatabaseRow, keep: string[]) => {
        log.push(`drop users on ${database.infraId} except ${String(keep)}`);
      }),
      claimOnInfra: jest.fn(async () => undefined),
      restoreAll: jest.fn(async (database: DatabaseRow) => {
        log.push(`access back on ${database.infraId}, writes blocked: ${database.overSizeLimit}`);
      }),
    };
    const provider = {
      dropDatabase: jest.fn(async () => void log.push('drop database on 2')),
    } as unknown as EngineProvider;
    const infras = { connect: jest.fn(async () => ({ provider, target: {} })) };
    sut = new DatabaseMoves(
      databases as unknown as DatabaseRepository,
      credentials as unknown as CredentialsService,
      infras as unknown as InfraAccess,
      {} as OperationRunner,
    );
  });

  it("drops the other end's users except names other databases hold there, and gives writes back", async () => {
    await sut.endMove({ id: 7 });

    expect(credentials.usersOfOtherDatabases).toHaveBeenCalledWith(2, 7);
    expect(log).toEqual([
      'drop users on 2 except u_taken',
      'drop database on 2',
      // The row leaves the move with over_size_limit false: its logins must not stay blocked.
      'access back on 1, writes blocked: false',
      'row ready',
    ]);
    // The stored passwords come back: a move changes no password.
    expect(credentials.restoreAll).toHaveBeenCalledWith(expect.anything(), false);
  });
});

/**
 * start: the claim of a target (placement, engine checks, slot) and the steps of the move,
 * with fakes that write down each call; the runner runs the work at once. The e2e moves
 * real databases; these pin the order, the refusals and the rollback.
 */
describe('DatabaseMoves.start', () => {
  const ready = {
    id: 7,
    name: 'shop',
    status: 'ready',
    environmentId: 3,
    infraId: 1,
    teamId: 4,
    overSizeLimit: false,
  } as unknown as DatabaseRecord;
  const plan = { planId: 5, maxConnections: 10, infraId: 2 };
  let log: string[];
  let found: DatabaseRecord | null;
  /** What startMove answers, per call (true: the slot was claimed). */
  let slots: boolean[];
  /** What nextPlacement answers, per call. */
  let placements: (number | null)[];
  /** Names the engine of each infra already has. */
  let existing: Map<number, string[]>;
  /** The row as the fake store holds it (status, infra, other end). */
  let row: { status: string; infraId: number; moveInfraId: number | null };
  let copy: jest.Mock;
  let dropFails: boolean;
  let subjects: TaskSubject[];
  let keys: string[];
  let sut: DatabaseMoves;

  beforeEach(() => {
    log = [];
    found = { ...ready };
    slots = [true];
    placements = [];
    existing = new Map();
    row = { status: 'ready', infraId: 1, moveInfraId: null };
    dropFails = false;
    subjects = [];
    keys = [];
    const databases = {
      find: jest.fn(async () => found),
      startMove: jest.fn(async (id: number, infraId: number, planId: number) => {
        log.push(`start move of ${id} to ${infraId}, plan ${planId}`);
        const claimed = slots.shift() ?? false;
        if (claimed) row = { status: 'moving', infraId: 1, moveInfraId: infraId };
        return claimed;
      }),
      nextPlacement: jest.fn(async (planId: number, environmentId: number) => {
        log.push(`next placement for plan ${planId} in ${environmentId}`);
        return placements.shift() ?? null;
      }),
      switchMove: jest.fn(async () => {
        log.push('switch');
        row = { status: 'moving', infraId: row.moveInfraId!, moveInfraId: row.infraId };
      }),
      findRow: jest.fn(async () => ({ ...ready, ...row })),
      endMove: jest.fn(async () => {
        log.push('row ready');
        row = { status: 'ready', infraId: row.infraId, moveInfraId: null };
      }),
    };
    const credentials = {
      assertMovable: jest.fn(async (_d: DatabaseRecord, infraId: number) => {
        log.push(`logins free on ${infraId}`);
      }),
      claimOnInfra: jest.fn(async (id: number, infraId: number) => {
        log.push(`claim names of ${id} on ${infraId}`);
      }),
      revokeAll: jest.fn(async (d: DatabaseRecord) => void log.push(`revoke on ${d.infraId}`)),
      recreateAll: jest.fn(async (_d: DatabaseRecord, infraId: number, limits: object) => {
        log.push(`recreate logins on ${infraId} ${JSON.stringify(limits)}`);
      }),
      usersOfOtherDatabases: jest.fn(async () => []),
      dropUsers: jest.fn(async (d: DatabaseRow) => void log.push(`drop users on ${d.infraId}`)),
      restoreAll: jest.fn(async (d: DatabaseRow) => void log.push(`restore on ${d.infraId}`)),
    };
    const providerOf = (infraId: number) =>
      ({
        databaseExists: jest.fn(async (_t: unknown, name: string) => {
          log.push(`exists ${name} on ${infraId}?`);
          return (existing.get(infraId) ?? []).includes(name);
        }),
        createDatabase: jest.fn(async (_t: unknown, name: string, limits: object) => {
          log.push(`create ${name} on ${infraId} ${JSON.stringify(limits)}`);
        }),
        dropDatabase: jest.fn(async (_t: unknown, name: string) => {
          if (dropFails) throw new Error('engine down');
          log.push(`drop ${name} on ${infraId}`);
        }),
      }) as unknown as EngineProvider;
    const infras = {
      connect: jest.fn(async (infraId: number) => ({
        provider: providerOf(infraId),
        target: { infraId },
      })),
    };
    const runner = {
      begin: jest.fn(
        async (subject: TaskSubject, key: string, work: (task: TaskRecord) => Promise<void>) => {
          subjects.push(subject);
          keys.push(key);
          const task = { id: 1 } as TaskRecord;
          const done = work(task);
          done.catch(() => undefined);
          return { task, done };
        },
      ),
    };
    copy = jest.fn(async (from: MoveEnd, to: MoveEnd, name: string) => {
      const infraOf = (end: MoveEnd) => (end.target as unknown as { infraId: number }).infraId;
      log.push(`copy ${name} from ${infraOf(from)} to ${infraOf(to)}`);
    });
    sut = new DatabaseMoves(
      databases as unknown as DatabaseRepository,
      credentials as unknown as CredentialsService,
      infras as unknown as InfraAccess,
      runner as unknown as OperationRunner,
    );
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('claims the target, revokes the source, copies, recreates the logins, switches, then drops the source', async () => {
    const { claimed, done } = await sut.start(ready, plan, 9, copy);
    await claimed;
    await done;

    expect(subjects).toEqual([
      {
        type: 'move_database',
        userId: 9,
        databaseId: 7,
        databaseName: 'shop',
        teamId: 4,
        origin: 'plan change to plan 5',
      },
    ]);
    expect(keys).toEqual([databaseLockKey(3, 'shop')]);
    expect(log).toEqual([
      'exists shop on 2?',
      'logins free on 2',
      'start move of 7 to 2, plan 5',
      'claim names of 7 on 2',
      'revoke on 1',
      'create shop on 2 {"maxConnections":10}',
      'copy shop from 1 to 2',
      'recreate logins on 2 {"maxConnections":10}',
      'switch',
      // endMove: the other end is now the source.
      'drop users on 1',
      'drop shop on 1',
      'claim names of 7 on 2',
      'restore on 2',
      'row ready',
    ]);
  });

  it.each([
    ['quarantined', 'is quarantined'],
    ['gone', 'is gone'],
  ])('refuses a database that is %s (409) and changes nothing', async (status, message) => {
    found = status === 'gone' ? null : ({ ...ready, status } as DatabaseRecord);

    const { claimed, done } = await sut.start(ready, plan, 9, copy);

    await expect(claimed).rejects.toBeInstanceOf(ConflictError);
    await expect(done).rejects.toThrow(message);
    expect(log).toEqual([]);
  });

  it("refuses a target that is the database's own infra (503) and changes nothing", async () => {
    const { claimed } = await sut.start(ready, { ...plan, infraId: 1 }, 9, copy);

    await expect(claimed).rejects.toBeInstanceOf(NoCapacityError);
    expect(log).toEqual([]);
  });

  it('refuses a target whose engine already has the name (409), before any claim', async () => {
    existing.set(2, ['shop']);

    const { claimed } = await sut.start(ready, plan, 9, copy);

    await expect(claimed).rejects.toThrow(/already exists on the engine server of the new plan/);
    expect(log).toEqual(['exists shop on 2?']);
  });

  it('takes the next placement when the chosen infra filled up meanwhile', async () => {
    slots = [false, true];
    placements = [4];

    const { claimed, done } = await sut.start(ready, plan, 9, copy);
    await claimed;
    await done;

    expect(log.slice(0, 7)).toEqual([
      'exists shop on 2?',
      'logins free on 2',
      'start move of 7 to 2, plan 5',
      'next placement for plan 5 in 3',
      'exists shop on 4?',
      'logins free on 4',
      'start move of 7 to 4, plan 5',
    ]);
    expect(log).toContain('copy shop from 1 to 4');
  });

  it('gives up after three full infras (503), and when no infra is left', async () => {
    slots = [false, false, false, true];
    placements = [4, 6, 8];
    const first = await sut.start(ready, plan, 9, copy);
    await expect(first.claimed).rejects.toBeInstanceOf(NoCapacityError);
    expect(log.filter((line) => line.startsWith('start move'))).toEqual([
      'start move of 7 to 2, plan 5',
      'start move of 7 to 4, plan 5',
      'start move of 7 to 6, plan 5',
    ]);
    expect(copy).not.toHaveBeenCalled();

    log = [];
    slots = [false];
    placements = [null];
    const second = await sut.start(ready, plan, 9, copy);
    await expect(second.claimed).rejects.toBeInstanceOf(NoCapacityError);
    expect(log).toEqual([
      'exists shop on 2?',
      'logins free on 2',
      'start move of 7 to 2, plan 5',
      'next placement for plan 5 in 3',
    ]);
  });

  it('rolls a failed copy back: the half-made copy goes, access comes back on the source', async () => {
    copy.mockRejectedValue(new Error('copy failed'));

    const { claimed, done } = await sut.start(ready, plan, 9, copy);
    await claimed;

    await expect(done).rejects.toThrow('copy failed');
    expect(log.slice(-5)).toEqual([
      'drop users on 2',
      'drop shop on 2',
      'claim names of 7 on 1',
      'restore on 1',
      'row ready',
    ]);
    expect(log).not.toContain('switch');
  });

  it.each([
    ['move-started', 'claim names of 7 on 1'],
    ['move-switched', 'claim names of 7 on 2'],
  ])(
    'stops at the test fault point %s and ends the move where the row points',
    async (step, claim) => {
      process.env.DBAAS_TEST_FAULT = `fail:${step}@shop`;
      try {
        const { done } = await sut.start(ready, plan, 9, copy);
        await expect(done).rejects.toThrow(step);
      } finally {
        delete process.env.DBAAS_TEST_FAULT;
      }
      expect(log).toContain(claim);
      expect(log[log.length - 1]).toBe('row ready');
      expect(log.includes('copy shop from 1 to 2')).toBe(step === 'move-switched');
    },
  );

  it('fails with the first error when the rollback fails too, leaving the row moving', async () => {
    copy.mockRejectedValue(new Error('copy failed'));
    dropFails = true;

    const { done } = await sut.start(ready, plan, 9, copy);

    await expect(done).rejects.toThrow('copy failed');
    expect(log).not.toContain('row ready');
    expect(Logger.prototype.warn).toHaveBeenCalledWith(
      expect.stringContaining('Rolling back the move of shop left work for the reconciler'),
    );
  });
});

describe('DatabaseMoves.endMove of a row not moving', () => {
  it.each([
    ['gone', null],
    ['ready', { id: 7, status: 'ready', moveInfraId: 2 }],
    ['moving without its other end', { id: 7, status: 'moving', moveInfraId: null }],
  ])('does nothing when the row is %s', async (_what, found) => {
    const databases = { findRow: jest.fn(async () => found), endMove: jest.fn() };
    const credentials = { usersOfOtherDatabases: jest.fn(), dropUsers: jest.fn() };
    const infras = { connect: jest.fn() };
    const sut = new DatabaseMoves(
      databases as unknown as DatabaseRepository,
      credentials as unknown as CredentialsService,
      infras as unknown as InfraAccess,
      {} as OperationRunner,
    );

    await sut.endMove({ id: 7 });

    expect(credentials.dropUsers).not.toHaveBeenCalled();
    expect(infras.connect).not.toHaveBeenCalled();
    expect(databases.endMove).not.toHaveBeenCalled();
  });
});
