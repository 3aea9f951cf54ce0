import {
  AccessPolicy,
  AuthenticatedUser,
  TeamRepository,
  TeamsService,
  UserRepository,
} from '@dbaas/auth';
import {
  AppConfig,
  ConflictError,
  EngineUnavailableError,
  NoCapacityError,
  NotFoundError,
  SecretBox,
  ValidationFailedError,
} from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { ConnectedInfra, EngineProvider, InfraAccess } from '@dbaas/engines';
import {
  AdvisoryLocks,
  OperationRunner,
  ProcessIdentity,
  TaskHistory,
  TaskRepository,
} from '@dbaas/operations';
import { CredentialRepository } from '@dbaas/credentials';
import {
  CredentialEntity,
  DatabaseEntity,
  InfraEntity,
  ProjectEntity,
  TaskEntity,
  TeamEntity,
  UserEntity,
} from '@dbaas/persistence';
import { randomBytes } from 'node:crypto';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { DatabaseMoves } from './database-moves.service';
import { DatabaseRepository } from './database.repository';
import { DatabasesService, FillStep } from './databases.service';
import { ProjectRepository } from './project.repository';

const dev: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };
const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [1] };
/** Waits until `condition` holds (10 s at most). */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Plan `small` (1) in environment `dev` (1) of seedCatalog. */
const input = { name: 'Orders', plan: 1, environment: 1 };

/**
 * Medium test: the service on a real PostgreSQL store (the app's migrations), with the real
 * locks, task history, operation runner, teams and credentials services, and a fake engine
 * (named EngineProvider methods). The engine fake writes down what the store holds at the
 * moment it is called, so the order of store writes and engine calls is read from the log;
 * the assertions read the store's rows.
 */
describe('DatabasesService on a real PostgreSQL store', () => {
  let store: TestStore;
  let me: ProcessIdentity;
  const secrets = new SecretBox(randomBytes(32));
  /** What happened on the engine, in order, with what the store said then. */
  let log: string[];
  let engine: jest.Mocked<
    Pick<
      EngineProvider,
      | 'reservedNames'
      | 'reservedNamePrefixes'
      | 'userNameMaxLength'
      | 'reservedUserNames'
      | 'reservedUserPrefixes'
      | 'databaseExists'
      | 'createDatabase'
      | 'dropDatabase'
      | 'endpoint'
      | 'usedSize'
      | 'userExists'
      | 'applyLimits'
      | 'createUser'
      | 'dropUser'
    >
  >;
  let credentials: CredentialsService;
  let sut: DatabasesService;

  // Explicit timeouts: starting or stopping a store can take longer than the 4 s of
  // jest.stryker.config.js on a loaded machine (Stryker's initial run then fails).
  beforeAll(async () => {
    store = await startStore();
    me = await ProcessIdentity.start(store.store);
  }, 120_000);
  afterAll(async () => {
    await me?.onApplicationShutdown();
    await store?.destroy();
  }, 120_000);

  /** The database rows, as `name status on <infra>`. */
  async function databases(): Promise<string[]> {
    const found = (await store.store.query(
      'SELECT name, status, infra_id FROM database ORDER BY id',
    )) as { name: string; status: string; infra_id: number }[];
    return found.map((r) => `${r.name} ${r.status} on ${r.infra_id}`);
  }

  /** The credential rows, as `user status`. */
  async function credentialRows(): Promise<string[]> {
    const found = (await store.store.query(
      'SELECT "user", status FROM credential ORDER BY id',
    )) as { user: string; status: string }[];
    return found.map((r) => `${r.user} ${r.status}`);
  }

  /** The task rows, as `type status database <id>`. */
  async function tasks(): Promise<string[]> {
    const found = (await store.store.query(
      'SELECT type, status, database_id FROM task ORDER BY id',
    )) as { type: string; status: string; database_id: number | null }[];
    return found.map((r) => `${r.type} ${r.status} database ${r.database_id}`);
  }

  /** What the store holds, in one line, for the engine fake's log. */
  async function said(): Promise<string> {
    const all = [...(await databases()), ...(await credentialRows())];
    return all.length ? all.join(', ') : 'nothing';
  }

  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
    // A project of team 2 (id 2) next to `shop` (team 1, id 1).
    await store.store.query(`INSERT INTO project (name, team_id) VALUES ('ledger', 2)`);
    log = [];
    engine = {
      reservedNames: ['mysql'],
      reservedNamePrefixes: ['pg_'],
      userNameMaxLength: 32,
      reservedUserNames: ['root'],
      reservedUserPrefixes: ['mysql_'],
      databaseExists: jest.fn(async (infra, name) => {
        log.push(`engine ${infra.id} has ${name}? store: ${await said()}`);
        return name === 'legacy';
      }),
      createDatabase: jest.fn(async (infra, name) => {
        log.push(`engine ${infra.id} create ${name}, store: ${await said()}`);
      }),
      dropDatabase: jest.fn(async (infra, name) => {
        log.push(`engine ${infra.id} drop ${name}, store: ${await said()}`);
      }),
      applyLimits: jest.fn(async (infra, name, users, limits) => {
        log.push(`engine ${infra.id} limits ${name} ${users.join(',')} ${limits.maxConnections}`);
      }),
      endpoint: jest.fn((addresses, name) => `mysql://<user>:<password>@${addresses[0]}/${name}`),
      usedSize: jest.fn(async (_infra, _name) => 4096),
      userExists: jest.fn(async (_infra, _user) => false),
      createUser: jest.fn(async (_infra, spec) => {
        log.push(`engine create user ${spec.user}, store: ${await said()}`);
      }),
      dropUser: jest.fn(async (_infra, ref) => {
        log.push(`engine drop user ${ref.user}, store: ${await said()}`);
      }),
    };
    const infraRows = store.store.getRepository(InfraEntity);
    const infras = {
      providerFor: () => engine,
      connect: async (id: number) => {
        const infra = await infraRows.findOneOrFail({
          where: { id },
          relations: { engine: { engineType: true } },
        });
        const target = { id, addresses: infra.addresses, adminUser: 'root', adminPassword: 'x' };
        return { infra, provider: engine, target } as unknown as ConnectedInfra;
      },
    } as unknown as InfraAccess;
    const policy = new AccessPolicy();
    const locks = new AdvisoryLocks(store.store);
    const history = new TaskHistory(
      new TaskRepository(store.store.getRepository(TaskEntity)),
      policy,
      me,
    );
    const runner = new OperationRunner(locks, history);
    credentials = new CredentialsService(
      new CredentialRepository(store.store.getRepository(CredentialEntity), policy),
      secrets,
      infras,
      policy,
      runner,
    );
    const databaseRepository = new DatabaseRepository(
      store.store.getRepository(DatabaseEntity),
      store.store,
      policy,
    );
    sut = new DatabasesService(
      databaseRepository,
      new ProjectRepository(store.store.getRepository(ProjectEntity)),
      new TeamsService(
        new TeamRepository(store.store.getRepository(TeamEntity)),
        new UserRepository(store.store.getRepository(UserEntity)),
        policy,
      ),
      infras,
      credentials,
      policy,
      runner,
      history,
      new DatabaseMoves(databaseRepository, credentials, infras, runner),
      { usedSizeCacheSeconds: 30 } as AppConfig,
    );
  }, 60_000);

  describe('create', () => {
    it('claims the name and the slot before any engine change, then makes the database and its owner', async () => {
      const createFor = jest.spyOn(credentials, 'createFor');

      const created = await sut.create(input, dev);

      expect(log).toEqual([
        'engine 1 has orders? store: nothing',
        'engine 1 create orders, store: orders creating on 1',
        'engine create user u_orders, store: orders creating on 1, u_orders creating',
      ]);
      // The owner is left creating: it becomes ready with the database, in one statement.
      expect(createFor).toHaveBeenCalledWith(expect.anything(), 'u_orders', 'owner', {
        markReady: false,
      });
      expect(await databases()).toEqual(['orders ready on 1']);
      expect(await credentialRows()).toEqual(['u_orders ready']);
      expect(await tasks()).toEqual(['create_database success database 1']);
      expect(created).toMatchObject({ usedSizeInBytes: null, endpoint: expect.any(String) });
      const [{ password_encrypted }] = (await store.store.query(
        'SELECT password_encrypted FROM credential',
      )) as { password_encrypted: string }[];
      expect(secrets.decrypt(password_encrypted)).toBe(created.defaultPassword);
      expect(created.database).toMatchObject({ id: 1, name: 'orders', status: 'ready', teamId: 1 });
    });

    it.each([
      ['an unknown plan', { plan: 9 }, { errors: { plan: ['no plan with id 9'] } }],
      [
        'an unknown environment',
        { environment: 9 },
        { errors: { environment: ['no environment with id 9'] } },
      ],
    ])('refuses %s before any engine work', async (_case, change, refusal) => {
      await expect(sut.create({ ...input, ...change }, dev)).rejects.toMatchObject(refusal);

      expect(log).toEqual([]);
      expect(await databases()).toEqual([]);
      expect(await tasks()).toEqual([]);
    });

    it.each([
      ['a plan not offered there', 'DELETE FROM plan_environment'],
      ['an inactive plan', 'UPDATE plan SET is_active = false'],
    ])('refuses %s before any engine work', async (_case, sql) => {
      await store.store.query(sql);

      await expect(sut.create(input, dev)).rejects.toMatchObject({
        errors: { plan: ['this plan is not offered in this environment'] },
      });

      expect(log).toEqual([]);
      expect(await databases()).toEqual([]);
    });

    it('refuses a name taken in the environment (409) before any engine work', async () => {
      await store.store.query(
        `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
         VALUES ('orders', 1, 1, 2, 2, 'ready')`,
      );

      await expect(sut.create(input, dev)).rejects.toThrow(
        new ConflictError('A database named orders already exists in this environment.'),
      );

      expect(log).toEqual([]);
      expect(await databases()).toEqual(['orders ready on 2']);
      expect(await tasks()).toEqual([]);
    });

    it("files the database under a project of its team, and refuses another team's project before any engine work", async () => {
      await expect(sut.create({ ...input, project: 2 }, dev)).rejects.toMatchObject({
        errors: { project: ['no project with id 2'] },
      });
      await expect(sut.create({ ...input, project: 2 }, dba)).rejects.toMatchObject({
        errors: { project: ["belongs to another team than the database's"] },
      });
      expect(log).toEqual([]);
      expect(await databases()).toEqual([]);

      const created = await sut.create({ ...input, project: 1 }, dev);

      expect(created.database).toMatchObject({ projectId: 1, teamId: 1 });
      const [row] = (await store.store.query('SELECT project_id, team_id FROM database')) as {
        project_id: number;
        team_id: number;
      }[];
      expect(row).toEqual({ project_id: 1, team_id: 1 });
    });

    it("refuses a name the engine reserves, by the engine's rules", async () => {
      await expect(sut.create({ ...input, name: 'mysql' }, dev)).rejects.toBeInstanceOf(
        ValidationFailedError,
      );
      // A reserved prefix: PostgreSQL keeps role names `pg_*` (the owner role is `<name>:owner`).
      await expect(sut.create({ ...input, name: 'pg_orders' }, dev)).rejects.toMatchObject({
        errors: { name: ['"pg_orders" starts with "pg_", which the engine reserves'] },
      });

      expect(log).toEqual([]);
      expect(await databases()).toEqual([]);
    });

    it('never takes over a database it did not make: a name on the engine is a 409 and nothing is written', async () => {
      await expect(sut.create({ ...input, name: 'legacy' }, dev)).rejects.toBeInstanceOf(
        ConflictError,
      );

      expect(log).toEqual(['engine 1 has legacy? store: nothing']);
      expect(engine.createDatabase).not.toHaveBeenCalled();
      expect(await databases()).toEqual([]);
      expect(await tasks()).toEqual(['create_database error database null']);
    });

    it('answers 503 no capacity, with nothing on the engine, when no infra had room', async () => {
      await store.store.query('UPDATE infra SET capacity = 0');

      await expect(sut.create(input, dev)).rejects.toBeInstanceOf(NoCapacityError);

      expect(log).toEqual([]);
      expect(await databases()).toEqual([]);
      expect(await tasks()).toEqual(['create_database error database null']);
    });

    it('goes to the next infra when the chosen one filled up meanwhile, checking that engine too', async () => {
      engine.databaseExists.mockImplementationOnce(async (infra, name) => {
        log.push(`engine ${infra.id} has ${name}? (infra 1 fills up now)`);
        await store.store.query('UPDATE infra SET capacity = 0 WHERE id = 1');
        return false;
      });

      const created = await sut.create(input, dev);

      expect(log.slice(0, 3)).toEqual([
        'engine 1 has orders? (infra 1 fills up now)',
        'engine 2 has orders? store: nothing',
        'engine 2 create orders, store: orders creating on 2',
      ]);
      expect(created.database.infraId).toBe(2);
      expect(await databases()).toEqual(['orders ready on 2']);
    });

    it('answers 503 no capacity, with nothing on the engine, when the last slot went meanwhile', async () => {
      engine.databaseExists.mockImplementationOnce(async (infra, name) => {
        log.push(`engine ${infra.id} has ${name}? (every infra fills up now)`);
        await store.store.query('UPDATE infra SET capacity = 0');
        return false;
      });

      await expect(sut.create(input, dev)).rejects.toBeInstanceOf(NoCapacityError);

      expect(log).toEqual(['engine 1 has orders? (every infra fills up now)']);
      expect(await databases()).toEqual([]);
      expect(await tasks()).toEqual(['create_database error database null']);
    });

    it('undoes what was made when the engine fails mid-way, still holding the lock, before answering', async () => {
      engine.createUser.mockRejectedValue(
        new EngineUnavailableError('mysql at db1:3306 does not answer'),
      );
      // A reconciler of another process must find the name locked until the rollback is done.
      const other = new AdvisoryLocks(await store.open());
      engine.dropDatabase.mockImplementation(async (infra, name) => {
        const lock = await other.tryAcquire('database:1:orders');
        await lock?.release();
        log.push(
          `engine ${infra.id} drop ${name}, locked ${lock === null}, tasks: ${(await tasks()).join(', ')}`,
        );
      });

      await expect(sut.create(input, dev)).rejects.toBeInstanceOf(EngineUnavailableError);

      expect(await databases()).toEqual([]);
      expect(log.slice(-2)).toEqual([
        // The credentials service undoes its own user first, then the rollback the rest.
        'engine drop user u_orders, store: orders creating on 1, u_orders creating',
        'engine 1 drop orders, locked true, tasks: create_database running database 1',
      ]);
      expect(await credentialRows()).toEqual([]);
      // The task keeps the id of the database it made and undid.
      expect(await tasks()).toEqual(['create_database error database 1']);
    });

    it('undoes the claimed row when the task cannot be linked to it', async () => {
      const link = jest
        .spyOn(TaskHistory.prototype, 'linkDatabase')
        .mockRejectedValueOnce(new Error('store down'));
      try {
        await expect(sut.create(input, dev)).rejects.toThrow('store down');
      } finally {
        link.mockRestore();
      }

      expect(await databases()).toEqual([]);
      expect(engine.createDatabase).not.toHaveBeenCalled();
      expect(await tasks()).toEqual(['create_database error database null']);
    });
  });

  describe('update', () => {
    beforeEach(() =>
      store.store.query(
        `INSERT INTO database (name, description, plan_id, environment_id, infra_id, team_id, status)
         VALUES ('orders', 'old', 1, 1, 1, 1, 'ready')`,
      ),
    );

    /** The row's editable fields, as `description project <id>`. */
    async function stored(): Promise<string> {
      const [row] = (await store.store.query(
        'SELECT description, project_id FROM database WHERE id = 1',
      )) as { description: string; project_id: number | null }[];
      return `${row.description} project ${row.project_id}`;
    }

    it('writes only the fields given, and answers the detail as it is then', async () => {
      const view = await sut.update(1, { description: 'new', project: 1 }, dev);

      expect(await stored()).toBe('new project 1');
      expect(view).toMatchObject({
        usedSizeInBytes: 4096,
        endpoint: 'mysql://<user>:<password>@db1:3306/orders',
      });
      expect(view.database).toMatchObject({ description: 'new', projectId: 1 });

      await sut.update(1, { description: 'newer' }, dev);
      expect(await stored()).toBe('newer project 1');
    });

    it('refuses a change of name or environment and an unknown plan, naming each field, and writes nothing', async () => {
      await expect(
        sut.update(1, { name: 'Other', plan: 3, environment: 2, description: 'x' }, dev),
      ).rejects.toMatchObject({
        errors: {
          name: ['is read-only after creation'],
          plan: ['no plan with id 3'],
          environment: ['is read-only after creation'],
        },
      });

      expect(await stored()).toBe('old project null');
    });

    it('accepts the read-only fields when unchanged (the name as the user wrote it)', async () => {
      await sut.update(1, { name: 'Orders', plan: 1, environment: 1, description: 'same' }, dev);

      expect(await stored()).toBe('same project null');
      // The same plan is no plan change: no task.
      expect(await tasks()).toEqual([]);
    });

    describe('plan change', () => {
      const planOf = async () =>
        (
          (await store.store.query('SELECT plan_id FROM database WHERE id = 1')) as {
            plan_id: number;
          }[]
        )[0].plan_id;

      beforeEach(async () => {
        await store.store.query(`
          INSERT INTO plan (name, engine_id, max_connections) VALUES ('wide', 1, 3), ('far', 1, 0);
          INSERT INTO plan_environment (plan_id, environment_id) VALUES (2, 1), (3, 1);
          INSERT INTO infra_plan (infra_id, plan_id) VALUES (1, 2), (2, 3);
        `);
      });

      it("a plan the database's infra serves: its limits on the engine, then the row, as a change_plan task", async () => {
        const view = await sut.update(1, { plan: 2 }, dev);

        expect(log.filter((line) => line.includes('limits'))).toEqual([
          'engine 1 limits orders  3',
        ]);
        expect(await planOf()).toBe(2);
        expect(view.task).toBeUndefined();
        expect(view.database.planId).toBe(2);
        expect(
          await store.store.query("SELECT status FROM task WHERE type = 'change_plan'"),
        ).toEqual([{ status: 'success' }]);
      });

      it('runs the step after an in-place change under the same lock, before answering (the size check)', async () => {
        const other = new AdvisoryLocks(await store.open());
        const afterChange = jest.fn(async (id: number) => {
          const lock = await other.tryAcquire('database:1:orders');
          await lock?.release();
          log.push(`after change of ${id}, locked ${lock === null}, plan ${await planOf()}`);
          await store.store.query('UPDATE database SET over_size_limit = true WHERE id = $1', [id]);
        });

        const view = await sut.update(1, { plan: 2 }, dev, undefined, afterChange);

        expect(log.slice(-1)).toEqual(['after change of 1, locked true, plan 2']);
        expect(view.database.overSizeLimit).toBe(true);
      });

      it('a failed step after the change is logged: the plan change stands', async () => {
        const afterChange = jest.fn(async () => {
          throw new Error('engine down');
        });
        const view = await sut.update(1, { plan: 2 }, dev, undefined, afterChange);
        expect(afterChange).toHaveBeenCalledTimes(1);
        expect(view.database.planId).toBe(2);
        expect(
          await store.store.query("SELECT status FROM task WHERE type = 'change_plan'"),
        ).toEqual([{ status: 'success' }]);
      });

      it('an engine failure changes nothing (the row keeps its plan)', async () => {
        engine.applyLimits.mockRejectedValueOnce(new Error('engine down'));

        await expect(sut.update(1, { plan: 2, description: 'x' }, dev)).rejects.toThrow(
          'engine down',
        );

        expect(await planOf()).toBe(1);
        expect(await stored()).toBe('old project null');
      });

      it('a plan served elsewhere is a move: refused (400) without a copy step, nothing changed', async () => {
        await expect(sut.update(1, { plan: 3 }, dev)).rejects.toMatchObject({
          errors: { plan: [expect.stringMatching(/another engine server/)] },
        });
        expect(await planOf()).toBe(1);
      });

      it('an inactive plan or one not offered in the environment: 400, nothing changed', async () => {
        await store.store.query('UPDATE plan SET is_active = false WHERE id = 2');
        await store.store.query('DELETE FROM plan_environment WHERE plan_id = 3');

        await expect(sut.update(1, { plan: 2 }, dev)).rejects.toMatchObject({
          errors: { plan: ['this plan is not active'] },
        });
        await expect(sut.update(1, { plan: 3 }, dev)).rejects.toMatchObject({
          errors: { plan: ["this plan is not offered in the database's environment"] },
        });
        expect(await planOf()).toBe(1);
        expect(engine.applyLimits).not.toHaveBeenCalled();
      });

      it("a plan of another engine: 400 naming the database's engine, nothing changed", async () => {
        await store.store.query(`
          INSERT INTO engine_type (name) VALUES ('postgresql');
          INSERT INTO engine (engine_type_id, version) VALUES (2, '15');
          INSERT INTO plan (name, engine_id) VALUES ('pg', 2);
          INSERT INTO plan_environment (plan_id, environment_id) VALUES (4, 1);
          INSERT INTO infra_plan (infra_id, plan_id) VALUES (1, 4);
        `);

        await expect(sut.update(1, { plan: 4 }, dev)).rejects.toMatchObject({
          errors: { plan: ["must be a plan of the database's engine (mysql)"] },
        });
        expect(await planOf()).toBe(1);
      });

      it('the limits go to every user of the database, and the task names the new plan', async () => {
        await store.store.query(
          `INSERT INTO credential ("user", database_id, infra_id, privileges, status, password_encrypted)
           VALUES ('u_orders', 1, 1, 'owner', 'ready', 'x'), ('app', 1, 1, 'read-only', 'ready', 'y')`,
        );

        await sut.update(1, { plan: 2 }, dev);

        expect(engine.applyLimits).toHaveBeenCalledWith(
          expect.objectContaining({ id: 1 }),
          'orders',
          ['u_orders', 'app'],
          { maxConnections: 3 },
        );
        expect(
          await store.store.query("SELECT origin FROM task WHERE type = 'change_plan'"),
        ).toEqual([{ origin: 'plan change to plan 2' }]);
      });

      it('only a ready database changes plan: 409, nothing on the engine', async () => {
        await store.store.query("UPDATE database SET status = 'quarantined'");

        await expect(sut.update(1, { plan: 2 }, dba)).rejects.toThrow(
          new ConflictError(
            'Database orders is quarantined: only a ready database can change plan.',
          ),
        );
        expect(engine.applyLimits).not.toHaveBeenCalled();
        expect(await planOf()).toBe(1);
        // Refused before the task: none is recorded.
        expect(await tasks()).toEqual([]);
      });

      it.each([
        ['no longer ready', "UPDATE database SET status = 'quarantined'", 'quarantined'],
        ['moved to another infra', 'UPDATE database SET infra_id = 2', 'ready'],
        ['gone', 'DELETE FROM database', 'gone'],
      ])(
        'checks the database again under the lock: %s meanwhile is a 409, nothing on the engine',
        async (_case, sql, now) => {
          const rows = (sut as unknown as { databases: DatabaseRepository }).databases;
          const find = rows.find.bind(rows);
          jest.spyOn(rows, 'find').mockImplementationOnce(async (id) => {
            const found = await find(id);
            await store.store.query(sql);
            return found;
          });

          await expect(sut.update(1, { plan: 2 }, dev)).rejects.toThrow(
            new ConflictError(`Database orders is ${now}: only a ready database can change plan.`),
          );
          expect(engine.applyLimits).not.toHaveBeenCalled();
          expect(
            await store.store.query("SELECT status FROM task WHERE type = 'change_plan'"),
          ).toEqual([{ status: 'error' }]);
        },
      );

      it('gives the engine its old limits back when the row cannot take the new plan', async () => {
        engine.applyLimits.mockImplementationOnce(async () => {
          await store.store.query("UPDATE database SET status = 'quarantined'");
        });

        await expect(sut.update(1, { plan: 2 }, dev)).rejects.toBeInstanceOf(ConflictError);

        expect(engine.applyLimits.mock.calls.map((call) => call[3])).toEqual([
          { maxConnections: 3 },
          { maxConnections: 0 },
        ]);
        expect(await planOf()).toBe(1);
      });

      it('a plan served elsewhere with a copy step: the answer carries the move task, once the database is moving', async () => {
        let copied!: () => void;
        const copy = jest.fn(() => new Promise<void>((resolve) => (copied = resolve)));

        const view = await sut.update(1, { plan: 3, description: 'moving' }, dev, copy);

        expect(view.task).toMatchObject({ type: 'move_database' });
        expect(view.database).toMatchObject({ status: 'moving', description: 'moving' });
        expect(view.usedSizeInBytes).toBeNull();
        expect(engine.usedSize).not.toHaveBeenCalled();
        expect(await store.store.query('SELECT move_infra_id FROM database')).toEqual([
          { move_infra_id: 2 },
        ]);
        await until(async () => copy.mock.calls.length === 1);
        copied();
        await until(
          async () =>
            (
              (await store.store.query("SELECT status FROM task WHERE type = 'move_database'")) as {
                status: string;
              }[]
            )[0]?.status !== 'running',
        );
        expect(await databases()).toEqual(['orders ready on 2']);
      });

      it('a move with no infra of the plan that has room: 503, nothing changed', async () => {
        await store.store.query('UPDATE infra SET capacity = 0 WHERE id = 2');

        await expect(sut.update(1, { plan: 3 }, dev, jest.fn())).rejects.toBeInstanceOf(
          NoCapacityError,
        );
        expect(await databases()).toEqual(['orders ready on 1']);
        expect(await tasks()).toEqual([]);
      });

      it('planChangeMoves: a plan the infra serves and the same plan do not move, one served elsewhere does', async () => {
        const database = (await sut.find(1))!;

        await expect(sut.planChangeMoves(database, 1)).resolves.toBe(false);
        await expect(sut.planChangeMoves(database, 2)).resolves.toBe(false);
        await expect(sut.planChangeMoves(database, 3)).resolves.toBe(true);
        // Its own plan never moves it, even once its infra no longer offers that plan.
        await store.store.query('DELETE FROM infra_plan WHERE infra_id = 1 AND plan_id = 1');
        await expect(sut.planChangeMoves(database, 1)).resolves.toBe(false);
      });
    });

    it('writes tags (without duplicates) and the protection, and only the fields given', async () => {
      const rows = (sut as unknown as { databases: DatabaseRepository }).databases;
      const updateDetails = jest.spyOn(rows, 'updateDetails');

      const view = await sut.update(1, { tags: ['web', 'web'], isProtected: true }, dev);

      expect(view.database).toMatchObject({ tags: ['web'], isProtected: true });
      expect(updateDetails.mock.calls[0][1]).toStrictEqual({ isProtected: true, tags: ['web'] });
      await sut.update(1, { description: 'new' }, dev);
      expect(updateDetails.mock.calls[1][1]).toStrictEqual({ description: 'new' });
      await sut.update(1, { project: null }, dev);
      expect(updateDetails.mock.calls[2][1]).toStrictEqual({ projectId: null });
      expect((await sut.find(1))!.tags).toEqual(['web']);
    });

    it('refuses tags that are not tags with the other errors (400), and writes nothing', async () => {
      await expect(sut.update(1, { tags: ['Web'], name: 'other' }, dev)).rejects.toMatchObject({
        errors: {
          name: ['is read-only after creation'],
          tags: [expect.stringContaining('"Web" is not a tag')],
        },
      });
      expect((await sut.find(1))!.tags).toEqual([]);
    });

    it('reads no project when the change names none', async () => {
      const rows = (sut as unknown as { projects: ProjectRepository }).projects;
      const findById = jest.spyOn(rows, 'findById');

      await sut.update(1, { description: 'x', project: null }, dev);

      expect(findById).not.toHaveBeenCalled();
    });

    it('refuses an unknown project, and writes nothing', async () => {
      await expect(sut.update(1, { project: 99 }, dev)).rejects.toMatchObject({
        errors: { project: ['no project with id 99'] },
      });

      expect(await stored()).toBe('old project null');
    });

    it("refuses another team's project as unknown to a regular user, and writes nothing", async () => {
      await expect(sut.update(1, { project: 2 }, dev)).rejects.toMatchObject({
        errors: { project: ['no project with id 2'] },
      });

      expect(await stored()).toBe('old project null');
    });

    it("refuses to file the database under another team's project even for a dba, and writes nothing", async () => {
      const outsideDba: AuthenticatedUser = { ...dba, teamIds: [] };

      await expect(sut.update(1, { project: 2 }, outsideDba)).rejects.toMatchObject({
        errors: { project: ["belongs to another team than the database's"] },
      });

      expect(await stored()).toBe('old project null');
    });

    it('answers 409, not 500, when the project moved to another team between the check and the write', async () => {
      // The check reads the project (team 1); it moves to team 2 before the write, which the
      // store refuses (database_project_team_fkey).
      const rows = (sut as unknown as { projects: ProjectRepository }).projects;
      const findById = rows.findById.bind(rows);
      jest.spyOn(rows, 'findById').mockImplementation(async (id) => {
        const found = await findById(id);
        await store.store.query('UPDATE project SET team_id = 2 WHERE id = 1');
        return found;
      });

      await expect(sut.update(1, { project: 1 }, dev)).rejects.toBeInstanceOf(ConflictError);

      expect(await stored()).toBe('old project null');
    });

    it("answers 404 for another team's database, and writes nothing", async () => {
      const outsider: AuthenticatedUser = {
        id: 5,
        username: 'other',
        role: 'regular',
        teamIds: [2],
      };

      await expect(sut.update(1, { description: 'x' }, outsider)).rejects.toBeInstanceOf(
        NotFoundError,
      );

      expect(await stored()).toBe('old project null');
    });
  });

  describe('createFilled (clone, from_backup)', () => {
    const filled = (fill: FillStep) => ({
      taskType: 'clone_database' as const,
      engineType: 'mysql',
      source: 'source database',
      origin: 'clone of database 7 (shop)',
      fill,
    });

    async function taskErrors(): Promise<string[]> {
      const found = (await store.store.query('SELECT type, status, origin, error FROM task')) as {
        type: string;
        status: string;
        origin: string;
        error: string | null;
      }[];
      return found.map((t) => `${t.type} ${t.status} (${t.origin}): ${t.error}`);
    }

    it('answers once the row is claimed; fills after the engine database, before the owner and ready', async () => {
      let release!: () => void;
      const fill = jest.fn(async (target: { id: number }, _provider: unknown, name: string) => {
        log.push(`fill ${name} on ${target.id}, store: ${await said()}`);
        await new Promise<void>((resolve) => (release = resolve));
      });

      const accepted = await sut.createFilled(input, dev, filled(fill));

      expect(accepted.view.database).toMatchObject({ name: 'orders', status: 'creating' });
      expect(accepted.task).toMatchObject({ type: 'clone_database' });
      await until(async () => fill.mock.calls.length === 1);
      expect(await databases()).toEqual(['orders creating on 1']);
      release();
      const ready = await accepted.done;

      expect(ready.database).toMatchObject({
        status: 'ready',
        credentials: [{ user: 'u_orders' }],
      });
      expect(log).toEqual([
        'engine 1 has orders? store: nothing',
        'engine 1 create orders, store: orders creating on 1',
        'fill orders on 1, store: orders creating on 1',
        'engine create user u_orders, store: orders creating on 1, u_orders creating',
      ]);
      expect(fill).toHaveBeenCalledWith(expect.objectContaining({ id: 1 }), engine, 'orders');
      expect(await databases()).toEqual(['orders ready on 1']);
      expect(await credentialRows()).toEqual(['u_orders ready']);
      expect(await taskErrors()).toEqual([
        'clone_database success (clone of database 7 (shop)): null',
      ]);
    });

    it('rolls a failed fill back completely (engine database, row) before the task ends with the reason', async () => {
      const accepted = await sut.createFilled(
        input,
        dev,
        filled(async () => {
          throw new ConflictError('The source database is gone: nothing was copied.');
        }),
      );

      await expect(accepted.done).rejects.toThrow('The source database is gone');

      // Already undone when the task says so: nothing is left for the reconciler.
      expect(await databases()).toEqual([]);
      expect(await credentialRows()).toEqual([]);
      expect(engine.dropDatabase).toHaveBeenCalledWith(
        expect.objectContaining({ id: 1 }),
        'orders',
      );
      expect(engine.createUser).not.toHaveBeenCalled();
      expect(await taskErrors()).toEqual([
        'clone_database error (clone of database 7 (shop)): The source database is gone: nothing was copied.',
      ]);
    });

    it("refuses a plan of another engine than the source's (400) before any engine work or task", async () => {
      const fill = jest.fn();

      await expect(
        sut.createFilled(input, dev, { ...filled(fill), engineType: 'postgresql' }),
      ).rejects.toMatchObject({
        errors: { plan: ["must be a plan of the source database's engine (postgresql)"] },
      });

      expect(log).toEqual([]);
      expect(fill).not.toHaveBeenCalled();
      expect(await tasks()).toEqual([]);
    });

    it('answers a name taken on the engine server with its 409 (the claim fails, nothing is filled)', async () => {
      const fill = jest.fn();

      await expect(
        sut.createFilled({ ...input, name: 'legacy' }, dev, filled(fill)),
      ).rejects.toThrow(
        new ConflictError('A database named legacy already exists on the engine server.'),
      );

      expect(fill).not.toHaveBeenCalled();
      expect(await databases()).toEqual([]);
      expect(await tasks()).toEqual(['clone_database error database null']);
    });
  });
  describe('create, the rest of its checks', () => {
    it('stores the defaults (empty description, unprotected, untagged) and passes the plan limits to the engine', async () => {
      const created = await sut.create(input, dev);

      expect(created.database).toMatchObject({ description: '', isProtected: false, tags: [] });
      const vault = await sut.create({ ...input, name: 'vault', isProtected: true }, dev);
      expect(vault.database.isProtected).toBe(true);
      expect(engine.createDatabase).toHaveBeenCalledWith(
        expect.objectContaining({ id: 1 }),
        'orders',
        {
          maxConnections: 0,
        },
      );
    });

    it('stores the tags given without duplicates, and refuses one that is not a tag (400) before any engine work', async () => {
      const created = await sut.create({ ...input, tags: ['web', 'web', 'eu'] }, dev);
      expect(created.database.tags).toEqual(['web', 'eu']);

      await expect(
        sut.create({ ...input, name: 'other', tags: ['Web'] }, dev),
      ).rejects.toMatchObject({
        errors: { tags: [expect.stringContaining('"Web" is not a tag')] },
      });
      expect(await databases()).toEqual(['orders ready on 1']);
    });

    it("refuses a team the caller is not a member of with the team's 400, and writes nothing", async () => {
      await expect(sut.create({ ...input, team: 2 }, dev)).rejects.toMatchObject({
        errors: { team: ['you are not a member of this team'] },
      });

      expect(log).toEqual([]);
      expect(await databases()).toEqual([]);
    });

    it('reads no project when none is given', async () => {
      const rows = (sut as unknown as { projects: ProjectRepository }).projects;
      const findById = jest.spyOn(rows, 'findById');

      await sut.create(input, dev);

      expect(findById).not.toHaveBeenCalled();
    });

    it('gives up with 503 no capacity after three infras filled up meanwhile, though a fourth has room', async () => {
      await store.store.query(`
        INSERT INTO infra (name, engine_id, environment_id, addresses, admin_user, admin_password_encrypted, capacity)
          VALUES ('db3', 1, 1, '["db3:3306"]', 'root', 'x', 10), ('db4', 1, 1, '["db4:3306"]', 'root', 'x', 10);
        INSERT INTO infra_plan (infra_id, plan_id) VALUES (3, 1), (4, 1);
      `);
      engine.databaseExists.mockImplementation(async (infra, name) => {
        log.push(`engine ${infra.id} has ${name}? (it fills up now)`);
        await store.store.query('UPDATE infra SET capacity = 0 WHERE id = $1', [infra.id]);
        return false;
      });

      await expect(sut.create(input, dev)).rejects.toBeInstanceOf(NoCapacityError);

      expect(log).toHaveLength(3);
      expect(await databases()).toEqual([]);
    });

    it('a fill fault point (database-filled) rolls the new database back', async () => {
      process.env.DBAAS_TEST_FAULT = 'fail:database-filled@orders';
      try {
        const accepted = await sut.createFilled(input, dev, {
          taskType: 'clone_database',
          engineType: 'mysql',
          source: 'source database',
          fill: async () => undefined,
        });
        expect(accepted.view.database.credentials).toEqual([]);
        await expect(accepted.done).rejects.toThrow('database-filled');
      } finally {
        delete process.env.DBAAS_TEST_FAULT;
      }

      expect(await databases()).toEqual([]);
      expect(engine.createUser).not.toHaveBeenCalled();
    });

    it('marks the row deleting before it drops anything on the engine when it rolls back', async () => {
      engine.createUser.mockRejectedValue(new Error('engine down'));

      await expect(sut.create(input, dev)).rejects.toThrow('engine down');

      expect(log).toContain('engine 1 drop orders, store: orders deleting on 1');
      expect(await databases()).toEqual([]);
    });
  });

  describe('reads', () => {
    beforeEach(() =>
      store.store.query(
        `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status, quarantine_dt)
         VALUES ('orders', 1, 1, 1, 1, 'ready', NULL), ('old', 1, 1, 2, 2, 'quarantined', '2026-01-01')`,
      ),
    );

    it('list: the page of what the viewer may see, the last measured size (null at first), measured in the background', async () => {
      const first = await sut.list({ page: 1, pageSize: 10 }, dev, {});

      expect(first.count).toBe(1);
      expect(first.items).toEqual([
        expect.objectContaining({
          database: expect.objectContaining({ id: 1, name: 'orders' }),
          endpoint: 'mysql://<user>:<password>@db1:3306/orders',
          totalSizeInBytes: 1048576,
          usedSizeInBytes: null,
        }),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const again = await sut.list({ page: 1, pageSize: 10 }, dev, {});
      expect(again.items[0].usedSizeInBytes).toBe(4096);
      expect(engine.usedSize).toHaveBeenCalledTimes(1);
    });

    it('get measures the size once per cache period; getUnmeasured shows the last one; measureNow measures again', async () => {
      await expect(sut.getUnmeasured(1, dev)).resolves.toMatchObject({ usedSizeInBytes: null });
      await sut.get(1, dev);
      engine.usedSize.mockResolvedValue(8192);
      await expect(sut.get(1, dev)).resolves.toMatchObject({ usedSizeInBytes: 4096 });
      await expect(sut.getUnmeasured(1, dev)).resolves.toMatchObject({ usedSizeInBytes: 4096 });
      expect(engine.usedSize).toHaveBeenCalledTimes(1);

      const row = (await sut.find(1))!;
      await expect(sut.measureNow(row)).resolves.toBe(8192);
      await expect(sut.getUnmeasured(1, dev)).resolves.toMatchObject({ usedSizeInBytes: 8192 });
    });

    it("is a 404 naming the database for another team's", async () => {
      await expect(sut.get(2, dev)).rejects.toThrow(new NotFoundError('database', 2));
      await expect(sut.get(2, dev)).rejects.toThrow('database 2 not found.');
    });

    it('all and quarantinedSince read the rows', async () => {
      expect((await sut.all()).map((row) => row.name)).toEqual(['orders', 'old']);
      expect((await sut.quarantinedSince('2026-01-01')).map((row) => row.name)).toEqual(['old']);
    });

    it('isOnEngine: an engine that lists its databases is asked, one that cannot is taken to have it; ensureReachable pings', async () => {
      const asked = engine as unknown as {
        listsEveryDatabase: boolean;
        listDatabases: jest.Mock;
        ping: jest.Mock;
      };
      asked.listsEveryDatabase = true;
      asked.listDatabases = jest.fn(async () => ['orders']);
      asked.ping = jest.fn(async () => undefined);

      await expect(sut.isOnEngine({ infraId: 1, name: 'orders' })).resolves.toBe(true);
      await expect(sut.isOnEngine({ infraId: 1, name: 'gone' })).resolves.toBe(false);
      asked.listsEveryDatabase = false;
      await expect(sut.isOnEngine({ infraId: 1, name: 'gone' })).resolves.toBe(true);
      expect(asked.listDatabases).toHaveBeenCalledTimes(2);

      await sut.ensureReachable({ infraId: 2 });
      expect(asked.ping).toHaveBeenCalledWith(expect.objectContaining({ id: 2 }));
    });
  });

  describe('destroy', () => {
    it('finishes a drop already marked deleting (a retry)', async () => {
      await store.store.query(
        `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
         VALUES ('orders', 1, 1, 1, 1, 'deleting')`,
      );

      await sut.destroy((await sut.find(1))!);

      expect(await databases()).toEqual([]);
    });

    it('stops at the users-dropped fault point with the row still deleting and the engine database kept', async () => {
      await store.store.query(
        `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
         VALUES ('orders', 1, 1, 1, 1, 'ready')`,
      );
      process.env.DBAAS_TEST_FAULT = 'fail:users-dropped@orders';
      try {
        await expect(sut.destroy((await sut.find(1))!)).rejects.toThrow('users-dropped');
      } finally {
        delete process.env.DBAAS_TEST_FAULT;
      }

      expect(engine.dropDatabase).not.toHaveBeenCalled();
      expect(await databases()).toEqual(['orders deleting on 1']);
    });
  });
});
