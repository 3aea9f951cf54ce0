import { AccessPolicy, AuthenticatedUser, TeamsService } from '@dbaas/auth';
import {
  AppConfig,
  ConflictError,
  EngineUnavailableError,
  NoCapacityError,
  NotFoundError,
  ValidationFailedError,
} from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { ConnectedInfra, EngineProvider, InfraAccess } from '@dbaas/engines';
import { DatabaseLocks, OperationRunner, TaskSubject } from '@dbaas/operations';
import { CredentialEntity, DatabaseEntity, ProjectEntity, TaskEntity } from '@dbaas/persistence';
import { EntityManager, QueryFailedError, Repository } from 'typeorm';
import { DatabasesService } from './databases.service';

const dev: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };
const input = { name: 'Orders', plan: 2, environment: 1 };

/** What the catalog check query answers for the input above when everything is in order. */
const allowed = {
  plan_id: 2,
  is_active: true,
  size_limit_in_bytes: '1048576',
  engine_type: 'mysql',
  environment_exists: true,
  offered: true,
  taken: false,
  infra_id: 3 as number | null,
};

describe('DatabasesService.create', () => {
  /** What happened, in order. */
  let log: string[];
  let checks: typeof allowed;
  let databases: {
    query: jest.Mock;
    create: jest.Mock;
    findOneBy: jest.Mock;
    delete: jest.Mock;
    manager: unknown;
  };
  let engine: jest.Mocked<
    Pick<
      EngineProvider,
      | 'reservedNames'
      | 'userNameMaxLength'
      | 'databaseExists'
      | 'createDatabase'
      | 'dropDatabase'
      | 'endpoint'
    >
  >;
  /** The infras that still have room when a slot is taken (under the infra's lock). */
  let room: Set<number>;
  /** What a fresh placement choice answers (after the chosen infra filled up). */
  let nextChoice: number | null;
  let credentials: jest.Mocked<Pick<CredentialsService, 'createFor' | 'dropUsers'>>;
  /** Projects by id, as the store holds them. */
  let projects: { findBy: jest.Mock };
  let sut: DatabasesService;

  beforeEach(() => {
    log = [];
    projects = {
      findBy: jest.fn(async () => [
        { id: 5, teamId: 1 },
        { id: 6, teamId: 2 },
      ]),
    };
    checks = { ...allowed };
    room = new Set([3]);
    nextChoice = null;
    databases = {
      query: jest.fn(async (sql: string, params: unknown[]) => {
        if (sql.includes('engine_type.name AS engine_type')) return [checks];
        if (sql.startsWith('SELECT (SELECT infra.id')) {
          log.push('store chooses again');
          return [{ infra_id: nextChoice }];
        }
        if (sql.includes("SET status = 'deleting'"))
          log.push(`store database ${String(params[0])} and its credentials deleting`);
        else if (sql.includes("SET status = 'ready'"))
          log.push(`store credential ${String(params[1])} and database ready`);
        else if (sql.includes('DELETE FROM database'))
          log.push(`store delete database ${String(params[0])} and its credentials`);
        else log.push(`store ${sql.split(' ').slice(0, 2).join(' ')} ${String(params[1])}`);
        return [];
      }),
      create: jest.fn((fields) => ({ ...fields }) as DatabaseEntity),
      findOneBy: jest.fn(async () => ({ id: 40, name: 'orders', status: 'creating', infraId: 3 })),
      delete: jest.fn(async () => void log.push('store delete row')),
      manager: { connection: { subscribers: [] } },
    };
    engine = {
      reservedNames: ['mysql'],
      userNameMaxLength: 32,
      databaseExists: jest.fn(async (_infra, name) => {
        log.push(`engine has ${name}?`);
        return name === 'legacy';
      }),
      createDatabase: jest.fn(async (_infra, name) => void log.push(`engine create ${name}`)),
      dropDatabase: jest.fn(async (_infra, name) => void log.push(`engine drop ${name}`)),
      endpoint: jest.fn((_infra, name) => `mysql://<user>:<password>@db1:3306/${name}`),
    };
    credentials = {
      createFor: jest.fn(async (_row, user, privileges, options) => {
        log.push(
          `credential ${user} ${privileges}${options?.markReady === false ? ' (left creating)' : ''}`,
        );
        return { credential: { id: 7, user } as CredentialEntity, password: 's3cret-password' };
      }),
      dropUsers: jest.fn(async (_row) => void log.push('drop credentials')),
    };
    const infra = {
      id: 3,
      addresses: ['db1:3306'],
      engineId: 2,
      engine: { engineType: { name: 'mysql' } },
    };
    const infras = {
      providerFor: jest.fn(() => engine),
      connect: jest.fn(
        async () => ({ infra, provider: engine, target: { id: 3 } }) as unknown as ConnectedInfra,
      ),
    };
    const runner = {
      run: jest.fn(
        async (subject: TaskSubject, key: string, work: (task: TaskEntity) => Promise<unknown>) => {
          log.push(`task ${subject.type} under ${key}`);
          return work({ id: 1 } as TaskEntity);
        },
      ),
    };
    const manager = {
      query: jest.fn(async (sql: string, params: unknown[]) => {
        expect(sql).toContain('INSERT INTO database');
        if (!room.has(params[4] as number)) return [];
        log.push(
          `store insert ${String(params[0])} ${String(params[7])} if room on infra ${String(params[4])}, task ${String(params[8])} linked`,
        );
        return [{ id: 40, created_at: new Date(), updated_at: new Date() }];
      }),
    };
    const locks = {
      withLock: jest.fn((_key: string, work: () => Promise<unknown>) => work()),
      withStoreLock: jest.fn((key: string, work: (manager: EntityManager) => Promise<unknown>) => {
        log.push(`lock ${key}`);
        return work(manager as unknown as EntityManager);
      }),
    };
    sut = new DatabasesService(
      databases as unknown as Repository<DatabaseEntity>,
      projects as unknown as Repository<ProjectEntity>,
      { owningTeam: jest.fn().mockResolvedValue(1) } as unknown as TeamsService,
      infras as unknown as InfraAccess,
      credentials as unknown as CredentialsService,
      new AccessPolicy(),
      runner as unknown as OperationRunner,
      locks as unknown as DatabaseLocks,
      { usedSizeCacheSeconds: 30 } as AppConfig,
    );
  });

  it('claims the name and the slot before any engine change, then makes the database and its owner', async () => {
    const created = await sut.create(input, dev);

    expect(log).toEqual([
      'task create_database under database:1:orders',
      'engine has orders?',
      'lock infra:3',
      'store insert orders creating if room on infra 3, task 1 linked',
      'engine create orders',
      'credential u_orders owner (left creating)',
      'store credential 7 and database ready',
    ]);
    expect(created).toMatchObject({ defaultPassword: 's3cret-password', usedSizeInBytes: null });
    expect(created.database).toMatchObject({ id: 40, name: 'orders', status: 'ready', teamId: 1 });
  });

  it.each([
    ['an unknown plan', { plan_id: null }, { errors: { plan: ['no plan with id 2'] } }],
    [
      'an unknown environment',
      { environment_exists: false },
      { errors: { environment: ['no environment with id 1'] } },
    ],
    [
      'a plan not offered there',
      { offered: false },
      { errors: { plan: ['this plan is not offered in this environment'] } },
    ],
    [
      'an inactive plan',
      { is_active: false },
      { errors: { plan: ['this plan is not offered in this environment'] } },
    ],
    [
      'a name taken in the environment',
      { taken: true },
      new ConflictError('A database named orders already exists in this environment.'),
    ],
  ])('refuses %s before any engine work', async (_case, answer, refusal) => {
    Object.assign(checks, answer);

    await expect(sut.create(input, dev)).rejects.toMatchObject(refusal);

    expect(log).toEqual([]);
  });

  it("files the database under a project of its team, and refuses another team's project before any engine work", async () => {
    projects.findBy.mockResolvedValue([{ id: 6, teamId: 2 }]);
    await expect(sut.create({ ...input, project: 6 }, dev)).rejects.toMatchObject({
      errors: { project: ['no project with id 6'] },
    });
    const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [1] };
    await expect(sut.create({ ...input, project: 6 }, dba)).rejects.toMatchObject({
      errors: { project: ["belongs to another team than the database's"] },
    });
    expect(log).toEqual([]);

    projects.findBy.mockResolvedValue([{ id: 5, teamId: 1 }]);
    const created = await sut.create({ ...input, project: 5 }, dev);

    expect(created.database).toMatchObject({ projectId: 5, teamId: 1 });
  });

  it("refuses a name the engine reserves, by the engine's rules", async () => {
    await expect(sut.create({ ...input, name: 'mysql' }, dev)).rejects.toBeInstanceOf(
      ValidationFailedError,
    );

    expect(log).toEqual([]);
  });

  it('never takes over a database it did not make: a name on the engine is a 409 and nothing is written', async () => {
    await expect(sut.create({ ...input, name: 'legacy' }, dev)).rejects.toBeInstanceOf(
      ConflictError,
    );

    expect(log).toEqual(['task create_database under database:1:legacy', 'engine has legacy?']);
  });

  it('answers 503 no capacity, with nothing on the engine, when no infra had room', async () => {
    checks.infra_id = null;

    await expect(sut.create(input, dev)).rejects.toBeInstanceOf(NoCapacityError);

    expect(log).toEqual(['task create_database under database:1:orders']);
  });

  it('goes to the next infra when the chosen one filled up meanwhile, checking that engine too', async () => {
    room = new Set([4]);
    nextChoice = 4;

    const created = await sut.create(input, dev);

    expect(log.slice(0, 7)).toEqual([
      'task create_database under database:1:orders',
      'engine has orders?',
      'lock infra:3',
      'store chooses again',
      'engine has orders?',
      'lock infra:4',
      'store insert orders creating if room on infra 4, task 1 linked',
    ]);
    expect(created.database.infraId).toBe(4);
  });

  it('answers 503 no capacity, with nothing on the engine, when the last slot went meanwhile', async () => {
    room = new Set();

    await expect(sut.create(input, dev)).rejects.toBeInstanceOf(NoCapacityError);

    expect(log).toEqual([
      'task create_database under database:1:orders',
      'engine has orders?',
      'lock infra:3',
      'store chooses again',
    ]);
  });

  it('answers at once when the engine fails mid-way, and undoes what was made in the background', async () => {
    credentials.createFor.mockRejectedValue(
      new EngineUnavailableError('mysql at db1:3306 does not answer'),
    );

    await expect(sut.create(input, dev)).rejects.toBeInstanceOf(EngineUnavailableError);
    await new Promise((resolve) => setImmediate(resolve));

    expect(log.slice(-4)).toEqual([
      'store database 40 and its credentials deleting',
      'drop credentials',
      'engine drop orders',
      'store delete database 40 and its credentials',
    ]);
  });
});

describe('DatabasesService.update', () => {
  /** The row as the detail query reads it (the list's columns). */
  const stored = {
    id: 40,
    name: 'orders',
    description: 'old',
    plan_id: 2,
    environment_id: 1,
    infra_id: 3,
    project_id: null,
    team_id: 1,
    status: 'ready',
    quarantine_dt: null,
    created_at: '2026-11-27T10:00:00Z',
    size_limit_in_bytes: '1048576',
    addresses: ['db1:3306'],
    engine_id: 2,
    engine_type: 'mysql',
    credentials: [{ id: 7, user: 'u_orders' }],
  };
  let databases: { query: jest.Mock; update: jest.Mock; manager: unknown };
  let projects: { findBy: jest.Mock };
  let sut: DatabasesService;

  beforeEach(() => {
    databases = {
      query: jest.fn(async (_sql: string, params: unknown[]) =>
        params[0] === stored.id ? [{ ...stored }] : [],
      ),
      update: jest.fn(async () => ({ affected: 1 })),
      manager: { connection: { subscribers: [] } },
    };
    projects = { findBy: jest.fn(async () => [{ id: 9, teamId: 1 }]) };
    const engine = {
      usedSize: jest.fn(async () => 4096),
      endpoint: jest.fn((_infra: unknown, name: string) => `mysql://db1:3306/${name}`),
    };
    const infras = {
      providerFor: jest.fn(() => engine),
      connect: jest.fn(async () => ({ provider: engine, target: { id: 3 } })),
    };
    sut = new DatabasesService(
      databases as unknown as Repository<DatabaseEntity>,
      projects as unknown as Repository<ProjectEntity>,
      { owningTeam: jest.fn().mockResolvedValue(1) } as unknown as TeamsService,
      infras as unknown as InfraAccess,
      {} as CredentialsService,
      new AccessPolicy(),
      {} as OperationRunner,
      {} as DatabaseLocks,
      { usedSizeCacheSeconds: 30 } as AppConfig,
    );
  });

  it('writes only the fields given, and answers the detail as it is then', async () => {
    const view = await sut.update(40, { description: 'new', project: 9 }, dev);

    expect(databases.update).toHaveBeenCalledWith(40, { description: 'new', projectId: 9 });
    expect(view).toMatchObject({ usedSizeInBytes: 4096, endpoint: 'mysql://db1:3306/orders' });
  });

  it('refuses a change of name, plan or environment, naming each field, and writes nothing', async () => {
    await expect(
      sut.update(40, { name: 'Other', plan: 3, environment: 2, description: 'x' }, dev),
    ).rejects.toMatchObject({
      errors: {
        name: ['is read-only after creation'],
        plan: ['is read-only after creation'],
        environment: ['is read-only after creation'],
      },
    });

    expect(databases.update).not.toHaveBeenCalled();
  });

  it('accepts the read-only fields when unchanged (the name as the user wrote it)', async () => {
    await sut.update(40, { name: 'Orders', plan: 2, environment: 1, description: 'same' }, dev);

    expect(databases.update).toHaveBeenCalledWith(40, { description: 'same' });
  });

  it('refuses an unknown project, and writes nothing', async () => {
    projects.findBy.mockResolvedValue([]);

    await expect(sut.update(40, { project: 99 }, dev)).rejects.toMatchObject({
      errors: { project: ['no project with id 99'] },
    });

    expect(databases.update).not.toHaveBeenCalled();
  });

  it("refuses another team's project as unknown to a regular user, and writes nothing", async () => {
    projects.findBy.mockResolvedValue([{ id: 12, teamId: 2 }]);

    await expect(sut.update(40, { project: 12 }, dev)).rejects.toMatchObject({
      errors: { project: ['no project with id 12'] },
    });

    expect(databases.update).not.toHaveBeenCalled();
  });

  it("refuses to file the database under another team's project even for a dba, and writes nothing", async () => {
    const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [3] };
    projects.findBy.mockResolvedValue([{ id: 12, teamId: 2 }]);

    await expect(sut.update(40, { project: 12 }, dba)).rejects.toMatchObject({
      errors: { project: ["belongs to another team than the database's"] },
    });

    expect(databases.update).not.toHaveBeenCalled();
  });

  it('answers 409, not 500, when the project moved to another team between the check and the write', async () => {
    // The store refuses it (database_project_team_fkey), as it does on a real store.
    databases.update.mockRejectedValue(
      new QueryFailedError(
        'UPDATE database',
        [],
        Object.assign(new Error('fk'), { code: '23503' }),
      ),
    );

    await expect(sut.update(40, { project: 9 }, dev)).rejects.toBeInstanceOf(ConflictError);
  });

  it("answers 404 for another team's database, and writes nothing", async () => {
    const outsider: AuthenticatedUser = { id: 5, username: 'other', role: 'regular', teamIds: [2] };

    await expect(sut.update(40, { description: 'x' }, outsider)).rejects.toBeInstanceOf(
      NotFoundError,
    );

    expect(databases.update).not.toHaveBeenCalled();
  });
});
