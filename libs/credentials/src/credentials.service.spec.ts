import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import {
  ConflictError,
  EngineUnavailableError,
  NotFoundError,
  SecretBox,
  ValidationFailedError,
} from '@dbaas/core';
import { ConnectedInfra, EngineProvider, InfraAccess } from '@dbaas/engines';
import { OperationRunner, TaskRecord, TaskSubject } from '@dbaas/operations';
import { CredentialEntity, DatabaseEntity } from '@dbaas/persistence';
import { randomBytes } from 'node:crypto';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { CredentialRepository } from './credential.repository';
import { CredentialsService } from './credentials.service';

const owner: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };
const page = { page: 1, pageSize: 50 };

/**
 * Medium test: the service on a real PostgreSQL store (the app's migrations), with a fake
 * engine (named EngineProvider methods) and a runner that runs the work at once. The store's
 * rows are what the assertions read; the engine fake looks at them while it is called.
 */
describe('CredentialsService on a real PostgreSQL store', () => {
  let store: TestStore;
  const secrets = new SecretBox(randomBytes(32));
  /** What happened, in order, on the engine and in the runner. */
  let log: string[];
  let engine: jest.Mocked<
    Pick<
      EngineProvider,
      | 'userNameMaxLength'
      | 'reservedUserNames'
      | 'reservedUserPrefixes'
      | 'ping'
      | 'userExists'
      | 'createUser'
      | 'setPassword'
      | 'dropUser'
      | 'revokeAccess'
      | 'restoreAccess'
    >
  >;
  /** The infra ids the service connected to, in order. */
  let connected: number[];
  /** The lock keys the runner was asked for, in order. */
  let lockKeys: string[];
  /** Runs just before the work of an operation (as if another request came first). */
  let beforeWork: () => Promise<void>;
  let sut: CredentialsService;
  let database: DatabaseEntity;

  beforeAll(async () => {
    store = await startStore();
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);

  /** The credential rows of the store, as `user status`. */
  async function rows(): Promise<string[]> {
    const found = (await store.store.query(
      'SELECT "user", status FROM credential ORDER BY id',
    )) as { user: string; status: string }[];
    return found.map((r) => `${r.user} ${r.status}`);
  }

  /** A 404 with exactly this message (the problem's `detail` the client reads). */
  async function expectNotFound(operation: Promise<unknown>, message: string): Promise<void> {
    const error = await operation.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe(message);
  }

  async function storedPassword(user: string): Promise<string> {
    const [row] = (await store.store.query(
      'SELECT password_encrypted FROM credential WHERE "user" = $1',
      [user],
    )) as { password_encrypted: string }[];
    return secrets.decrypt(row.password_encrypted);
  }

  async function addCredential(
    user: string,
    privileges = 'owner',
    databaseId = 1,
    status = 'ready',
  ): Promise<number> {
    const [{ id }] = (await store.store.query(
      `INSERT INTO credential ("user", database_id, infra_id, privileges, status, password_encrypted)
       VALUES ($1, $2, 1, $3, $4, $5) RETURNING id`,
      [user, databaseId, privileges, status, secrets.encrypt('old-password')],
    )) as { id: number }[];
    return id;
  }

  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
    await store.store.query(
      `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
       VALUES ('orders', 1, 1, 1, 1, 'ready'), ('secret', 1, 1, 1, 2, 'ready')`,
    );
    database = await store.store.getRepository(DatabaseEntity).findOneByOrFail({ id: 1 });
    log = [];
    beforeWork = async () => undefined;
    engine = {
      userNameMaxLength: 32,
      reservedUserNames: ['mysql'],
      reservedUserPrefixes: ['mysql_'],
      ping: jest.fn(async (_infra) => {
        log.push('engine ping');
        return { version: '10.11' };
      }),
      userExists: jest.fn(async (_infra, user) => {
        log.push(`engine has ${user}?`);
        return user === 'legacy_app';
      }),
      createUser: jest.fn(async (_infra, spec) => {
        log.push(`engine create ${spec.user}, store says ${(await rows()).join(', ')}`);
      }),
      setPassword: jest.fn(async (_infra, ref, password) => {
        const [row] = (await store.store.query('SELECT status FROM credential WHERE "user" = $1', [
          ref.user,
        ])) as { status: string }[];
        const same = password === (await storedPassword(ref.user)) ? 'same' : 'OTHER';
        log.push(`engine password, store says ${row.status} with the ${same} password`);
      }),
      dropUser: jest.fn(async (_infra, ref) => void log.push(`engine drop ${ref.user}`)),
      revokeAccess: jest.fn(async (_infra, ref) => void log.push(`engine revoke ${ref.user}`)),
      restoreAccess: jest.fn(async (_infra, spec) => void log.push(`engine restore ${spec.user}`)),
    };
    connected = [];
    lockKeys = [];
    const infras = {
      connect: async (infraId: number) => {
        connected.push(infraId);
        return {
          provider: engine,
          target: { id: infraId, adminUser: 'root' },
        } as unknown as ConnectedInfra;
      },
    };
    const runner = {
      run: async (
        subject: TaskSubject,
        key: string,
        work: (task: TaskRecord) => Promise<unknown>,
      ) => {
        log.push(`task ${subject.type}`);
        lockKeys.push(key);
        await beforeWork();
        return work({ id: 1 } as TaskRecord);
      },
    };
    sut = new CredentialsService(
      new CredentialRepository(store.store.getRepository(CredentialEntity), new AccessPolicy()),
      secrets,
      infras as unknown as InfraAccess,
      new AccessPolicy(),
      runner as unknown as OperationRunner,
    );
  });

  describe('createFor', () => {
    it('claims the name in the store (creating) before the engine makes the user, then marks it ready', async () => {
      const { credential, password } = await sut.createFor(database, 'app', 'read-only');

      expect(log).toEqual(['engine has app?', 'engine create app, store says app creating']);
      expect(await rows()).toEqual(['app ready']);
      expect(await storedPassword('app')).toBe(password);
      expect(credential).toMatchObject({ user: 'app', status: 'ready', privileges: 'read-only' });
      expect(credential).not.toHaveProperty('passwordEncrypted');
    });

    it('leaves the record creating when the caller marks it ready itself', async () => {
      const { credential } = await sut.createFor(database, 'app', 'owner', { markReady: false });

      expect(credential.status).toBe('creating');
      expect(await rows()).toEqual(['app creating']);
    });

    it('never takes over a user it did not make: a name on the engine is a 409, nothing written', async () => {
      await expect(sut.createFor(database, 'legacy_app', 'owner')).rejects.toBeInstanceOf(
        ConflictError,
      );

      expect(engine.createUser).not.toHaveBeenCalled();
      expect(await rows()).toEqual([]);
    });

    it('answers 409 when the store has the name on this infra, for another database too', async () => {
      await addCredential('app', 'owner', 2);

      await expect(sut.createFor(database, 'app', 'owner')).rejects.toThrow(
        'The user app already exists on this engine server.',
      );
      expect(engine.createUser).not.toHaveBeenCalled();
    });

    it('answers 409, not 503, for a name the store has while the engine is down', async () => {
      await addCredential('app', 'owner', 2);
      engine.userExists.mockRejectedValue(new EngineUnavailableError('mysql at db1 is down'));

      await expect(sut.createFor(database, 'app', 'owner')).rejects.toBeInstanceOf(ConflictError);
    });

    it('answers 503 when the engine cannot say whether it has the name, with nothing written', async () => {
      engine.userExists.mockRejectedValue(new EngineUnavailableError('mysql at db1 is down'));

      await expect(sut.createFor(database, 'app', 'owner')).rejects.toBeInstanceOf(
        EngineUnavailableError,
      );
      expect(engine.createUser).not.toHaveBeenCalled();
      expect(await rows()).toEqual([]);
    });

    it('fails with the store when it cannot say whether it has the name, with nothing made', async () => {
      const failure = new Error('the store is down');
      const check = jest
        .spyOn(CredentialRepository.prototype, 'isUserTaken')
        .mockRejectedValueOnce(failure);
      try {
        await expect(sut.createFor(database, 'app', 'owner')).rejects.toBe(failure);
      } finally {
        check.mockRestore();
      }
      expect(engine.createUser).not.toHaveBeenCalled();
      expect(await rows()).toEqual([]);
    });

    it("makes the owner of a database being created (its status is still 'creating')", async () => {
      const { credential } = await sut.createFor(
        { ...database, status: 'creating' },
        'app',
        'owner',
        {
          markReady: false,
        },
      );

      expect(credential.status).toBe('creating');
      expect(engine.createUser).toHaveBeenCalledTimes(1);
    });

    it('answers 409 when another create claimed the name between the check and the insert', async () => {
      engine.userExists.mockImplementation(async () => {
        await addCredential('app', 'owner', 2); // the other create's insert lands now
        return false;
      });

      await expect(sut.createFor(database, 'app', 'owner')).rejects.toThrow(
        'The user app already exists on this engine server.',
      );
      expect(engine.createUser).not.toHaveBeenCalled();
      expect(await rows()).toEqual(['app ready']);
    });

    it('answers 409 naming the state for a database that is lost or in quarantine, touching nothing', async () => {
      await expect(sut.createFor({ ...database, status: 'lost' }, 'app', 'owner')).rejects.toThrow(
        'The database is lost (missing on its engine server): it takes no new credentials.',
      );
      await expect(
        sut.createFor({ ...database, status: 'quarantined' }, 'app', 'owner'),
      ).rejects.toThrow('The database is in quarantine: it takes no new credentials.');
      expect(engine.userExists).not.toHaveBeenCalled();
    });

    it('refuses a name the engine reserves (400, naming the field), asking nothing', async () => {
      const error = await sut.createFor(database, 'mysql', 'owner').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ValidationFailedError);
      expect((error as ValidationFailedError).errors).toEqual({ user: [expect.any(String)] });
      expect(log).toEqual([]);
    });

    it('drops the user and the record again when the engine fails half-way', async () => {
      engine.createUser.mockRejectedValue(new EngineUnavailableError('mysql at db1 is down'));

      await expect(sut.createFor(database, 'app', 'owner')).rejects.toBeInstanceOf(
        EngineUnavailableError,
      );

      expect(log.slice(-1)).toEqual(['engine drop app']);
      expect(await rows()).toEqual([]);
    });
  });

  describe('resetPassword', () => {
    beforeEach(() => addCredential('u_orders'));

    it('stores the new password (resetting) before the engine gets it, then marks it ready', async () => {
      const { password } = await sut.resetPassword(1, owner);

      expect(log).toEqual([
        'task reset_password',
        'engine ping',
        'engine password, store says resetting with the same password',
      ]);
      expect(await rows()).toEqual(['u_orders ready']);
      expect(await storedPassword('u_orders')).toBe(password);
      expect(password).not.toBe('old-password');
    });

    it('changes nothing when the engine does not answer its ping', async () => {
      engine.ping.mockRejectedValue(new EngineUnavailableError('mysql at db1 is down'));

      await expect(sut.resetPassword(1, owner)).rejects.toBeInstanceOf(EngineUnavailableError);

      expect(await rows()).toEqual(['u_orders ready']);
      expect(await storedPassword('u_orders')).toBe('old-password');
    });

    it('leaves the credential resetting, with the new password, when the engine fails after the ping', async () => {
      engine.setPassword.mockRejectedValue(new EngineUnavailableError('mysql at db1 is down'));

      await expect(sut.resetPassword(1, owner)).rejects.toBeInstanceOf(EngineUnavailableError);

      // The reconciler puts this password on the engine (see reconcile()).
      expect(await rows()).toEqual(['u_orders resetting']);
      expect(await storedPassword('u_orders')).not.toBe('old-password');
    });

    it("answers 404 for another team's credential, with nothing done", async () => {
      const theirs = await addCredential('u_secret', 'owner', 2);

      await expect(sut.resetPassword(theirs, owner)).rejects.toBeInstanceOf(NotFoundError);
      expect(log).toEqual([]);
    });
  });

  describe('remove', () => {
    it('refuses the last owner credential (409) before any task, engine or store change', async () => {
      const id = await addCredential('u_orders');
      await addCredential('reader', 'read-only');

      const refused = sut.remove(id, owner);
      await expect(refused).rejects.toBeInstanceOf(ConflictError);
      await expect(refused).rejects.toThrow(
        'This is the last owner credential of its database: create another owner credential first, or delete the database.',
      );

      expect(log).toEqual([]);
      expect(await rows()).toEqual(['u_orders ready', 'reader ready']);
    });

    it('drops an owner credential while another owner remains', async () => {
      const id = await addCredential('u_orders');
      await addCredential('u_second');

      await sut.remove(id, owner);

      expect(log).toEqual(['task delete_credential', 'engine ping', 'engine drop u_orders']);
      expect(await rows()).toEqual(['u_second ready']);
    });

    it('refuses under the lock when the other owner went meanwhile, with nothing changed', async () => {
      const id = await addCredential('u_orders');
      await addCredential('u_second');
      beforeWork = async () =>
        void (await store.store.query(`DELETE FROM credential WHERE "user" = 'u_second'`));

      await expect(sut.remove(id, owner)).rejects.toBeInstanceOf(ConflictError);

      expect(log).toEqual(['task delete_credential']);
      expect(await rows()).toEqual(['u_orders ready']);
    });

    it('does not count an owner that is being deleted as the other owner', async () => {
      const id = await addCredential('u_orders');
      await addCredential('u_second', 'owner', 1, 'deleting');

      await expect(sut.remove(id, owner)).rejects.toBeInstanceOf(ConflictError);
    });

    it.each(['read-write', 'read-only'])(
      'drops a %s credential without counting owners',
      async (privileges) => {
        const id = await addCredential('u_orders', privileges);

        await sut.remove(id, owner);

        expect(log).toEqual(['task delete_credential', 'engine ping', 'engine drop u_orders']);
        expect(await rows()).toEqual([]);
      },
    );
  });

  describe('a database over its size limit', () => {
    it('gets new users with writes blocked, and so do users restored from quarantine', async () => {
      database.overSizeLimit = true;
      await sut.createFor(database, 'app', 'read-write');
      expect(engine.createUser).toHaveBeenCalledWith(
        expect.anything(),
        expect.objectContaining({ user: 'app', privileges: 'read-write', writesBlocked: true }),
      );

      const restoreAccess = jest.fn(async () => undefined);
      Object.assign(engine, { restoreAccess });
      await sut.restoreAll(database, true);
      expect(restoreAccess).toHaveBeenCalledWith(
        expect.anything(),
        expect.objectContaining({ user: 'app', writesBlocked: true }),
      );
    });

    it('is read with the database for a credential made through the API', async () => {
      await store.store.query('UPDATE database SET over_size_limit = true WHERE id = 1');
      const admin = { id: 1, username: 'admin', role: 'dba' as const, teamIds: [] };
      await sut.create({ user: 'late', database: 1 }, admin);
      expect(engine.createUser).toHaveBeenCalledWith(
        expect.anything(),
        expect.objectContaining({ user: 'late', writesBlocked: true }),
      );
    });
  });

  describe('revokeAll and dropUsers', () => {
    it('use the credentials read with the database under its lock, without another read', async () => {
      await addCredential('in_store_only');
      const read = {
        ...database,
        credentials: [{ user: 'u_orders' }, { user: 'reporting' }],
      } as DatabaseEntity;

      await sut.revokeAll(read);
      await sut.dropUsers(read);

      expect(log).toEqual([
        'engine revoke u_orders',
        'engine revoke reporting',
        'engine drop u_orders',
        'engine drop reporting',
      ]);
    });

    it("read the database's credentials, in every state, from the store otherwise", async () => {
      await addCredential('u_orders');
      await addCredential('half_made', 'owner', 1, 'creating');
      await addCredential('u_secret', 'owner', 2);

      await sut.dropUsers(database);

      expect(log).toEqual(['engine drop u_orders', 'engine drop half_made']);
    });
  });

  describe('list and reveal', () => {
    it('show a regular user the ready credentials of their visible databases only', async () => {
      await addCredential('u_orders');
      await addCredential('half_made', 'read-only', 1, 'creating');
      await addCredential('u_secret', 'owner', 2);
      const listed = async () => (await sut.list(page, owner)).items.map((c) => c.user);

      expect(await listed()).toEqual(['u_orders']);
      await store.store.query(`UPDATE database SET status = 'quarantined' WHERE id = 1`);
      expect(await listed()).toEqual([]);
    });

    it("reveal gives the stored password, and 404 for another team's credential", async () => {
      const mine = await addCredential('u_orders');
      const theirs = await addCredential('u_secret', 'owner', 2);

      await expect(sut.reveal(mine, owner)).resolves.toMatchObject({ password: 'old-password' });
      await expectNotFound(sut.reveal(theirs, owner), `credential ${theirs} not found.`);
    });
  });

  describe('create (the public operation)', () => {
    it('runs under the lock of the database, as a create_credential task, an owner by default', async () => {
      const { credential } = await sut.create({ user: 'app', database: 1 }, owner);

      expect(lockKeys).toEqual(['database:1:orders']);
      expect(log[0]).toBe('task create_credential');
      expect(credential).toMatchObject({ user: 'app', privileges: 'owner', status: 'ready' });
    });

    it("answers 404 for another team's database, before any task", async () => {
      await expectNotFound(
        sut.create({ user: 'app', database: 2 }, owner),
        'database 2 not found.',
      );
      await expectNotFound(
        sut.create({ user: 'app', database: 9 }, owner),
        'database 9 not found.',
      );
      expect(log).toEqual([]);
    });

    it('answers 409 when the database is no longer ready under the lock, touching nothing', async () => {
      beforeWork = async () =>
        void (await store.store.query(`UPDATE database SET status = 'lost' WHERE id = 1`));

      await expect(sut.create({ user: 'app', database: 1 }, owner)).rejects.toThrow(
        'The database is lost: it takes no new credentials.',
      );
      expect(log).toEqual(['task create_credential']);
      expect(await rows()).toEqual([]);
    });

    it('answers 404 when the database went, or left the team, before the lock was taken', async () => {
      beforeWork = async () =>
        void (await store.store.query(`UPDATE database SET team_id = 2 WHERE id = 1`));
      await expectNotFound(
        sut.create({ user: 'app', database: 1 }, owner),
        'database 1 not found.',
      );

      await store.store.query(`UPDATE database SET team_id = 1 WHERE id = 1`);
      beforeWork = async () => void (await store.store.query(`DELETE FROM database WHERE id = 1`));
      await expectNotFound(
        sut.create({ user: 'app', database: 1 }, owner),
        'database 1 not found.',
      );
      expect(await rows()).toEqual([]);
    });

    it('refuses a database that is moving, naming why', async () => {
      await expect(
        sut.createFor({ ...database, status: 'moving' }, 'app', 'owner'),
      ).rejects.toThrow(
        'The database is moving to another engine server: it takes no new credentials.',
      );
    });
  });

  describe('resetPassword under the lock', () => {
    it('answers 409 naming the state of a database that is not ready, changing nothing', async () => {
      await addCredential('u_orders');
      await store.store.query(`UPDATE database SET status = 'lost' WHERE id = 1`);

      await expect(sut.resetPassword(1, owner)).rejects.toThrow(
        'The database is lost (missing on its engine server): passwords cannot be reset.',
      );
      expect(log).toEqual(['task reset_password']);
      expect(await storedPassword('u_orders')).toBe('old-password');
    });

    it('retries a reset an engine failure left resetting', async () => {
      await addCredential('u_orders', 'owner', 1, 'resetting');

      const { password, credential } = await sut.resetPassword(1, owner);

      expect(await rows()).toEqual(['u_orders ready']);
      expect(credential.status).toBe('ready');
      expect(await storedPassword('u_orders')).toBe(password);
    });

    it('answers 404 for a credential that started going before the lock was taken', async () => {
      await addCredential('u_orders');
      beforeWork = async () =>
        void (await store.store.query(`UPDATE credential SET status = 'deleting'`));

      await expectNotFound(sut.resetPassword(1, owner), 'credential 1 not found.');
      expect(engine.setPassword).not.toHaveBeenCalled();
      expect(await rows()).toEqual(['u_orders deleting']);
    });

    it('answers 404 for a credential whose database was deleted right after the credential was read', async () => {
      await addCredential('u_orders');
      // A database's delete removes its credentials, then its row, between the two reads.
      const read = CredentialRepository.prototype.findVisibleSealed;
      const racing = jest
        .spyOn(CredentialRepository.prototype, 'findVisibleSealed')
        .mockImplementationOnce(async function (this: CredentialRepository, ...args) {
          const found = await read.apply(this, args);
          await store.store.query(`DELETE FROM credential WHERE database_id = 1`);
          await store.store.query(`DELETE FROM database WHERE id = 1`);
          return found;
        });
      try {
        await expectNotFound(sut.resetPassword(1, owner), 'credential 1 not found.');
      } finally {
        racing.mockRestore();
      }
      expect(log).toEqual([]);
    });
  });

  describe('remove under the lock', () => {
    it('finishes the drop of a credential another request already marked deleting', async () => {
      const id = await addCredential('u_orders', 'read-only');
      beforeWork = async () =>
        void (await store.store.query(`UPDATE credential SET status = 'deleting'`));

      await sut.remove(id, owner);

      expect(log).toEqual(['task delete_credential', 'engine ping', 'engine drop u_orders']);
      expect(await rows()).toEqual([]);
    });

    it('answers 404 for a credential that went before the lock was taken', async () => {
      const id = await addCredential('u_orders', 'read-only');
      beforeWork = async () => void (await store.store.query(`DELETE FROM credential`));

      await expectNotFound(sut.remove(id, owner), `credential ${id} not found.`);
      expect(log).toEqual(['task delete_credential']);
    });

    it("drops the last owner when the caller allows it (a platform's unbind)", async () => {
      const id = await addCredential('u_orders');

      await sut.remove(id, owner, { lastOwner: 'allow' });

      expect(log).toEqual(['task delete_credential', 'engine ping', 'engine drop u_orders']);
      expect(await rows()).toEqual([]);
    });
  });

  describe('reconcile', () => {
    it('rolls back a create, finishes a reset and a drop, and leaves a ready credential alone', async () => {
      await addCredential('u_orders');
      await addCredential('half_made', 'owner', 1, 'creating');
      await addCredential('reset_once', 'read-only', 1, 'resetting');
      await addCredential('going', 'owner', 1, 'deleting');
      await addCredential('u_secret', 'owner', 2, 'creating');
      await store.store.query('UPDATE plan SET max_connections = 7');

      await sut.reconcile(database);

      expect(log).toEqual([
        'engine drop half_made',
        'engine password, store says resetting with the same password',
        'engine drop going',
      ]);
      expect(engine.setPassword).toHaveBeenCalledWith(
        expect.anything(),
        { database: 'orders', user: 'reset_once' },
        'old-password',
        { maxConnections: 7 },
      );
      expect(await rows()).toEqual(['u_orders ready', 'reset_once ready', 'u_secret creating']);
    });

    it('marks a reset ready in quarantine without putting its password on the engine', async () => {
      await addCredential('reset_once', 'owner', 1, 'resetting');

      await sut.reconcile({ ...database, status: 'quarantined' });

      expect(engine.setPassword).not.toHaveBeenCalled();
      expect(await rows()).toEqual(['reset_once ready']);
    });
  });

  describe('restoreAll', () => {
    it('puts the stored passwords back when no new ones are asked for (an interrupted quarantine)', async () => {
      await addCredential('u_orders');
      await addCredential('reader', 'read-only');
      await addCredential('u_secret', 'owner', 2);

      await sut.restoreAll({ ...database, maxConnections: 4 }, false);

      expect(log).toEqual(['engine restore u_orders', 'engine restore reader']);
      expect(engine.restoreAccess).toHaveBeenCalledWith(expect.anything(), {
        database: 'orders',
        user: 'reader',
        password: 'old-password',
        privileges: 'read-only',
        maxConnections: 4,
        writesBlocked: false,
      });
      expect(await storedPassword('u_orders')).toBe('old-password');
    });

    it('gives every credential a new password, stored as the engine got it (a restore)', async () => {
      await addCredential('u_orders');

      await sut.restoreAll(database, true);

      const [[, spec]] = engine.restoreAccess.mock.calls;
      expect(spec.password).not.toBe('old-password');
      expect(await storedPassword('u_orders')).toBe(spec.password);
    });
  });

  describe('a move', () => {
    it('is refused while a credential is not ready, naming it, before any engine call', async () => {
      await addCredential('u_orders');
      await addCredential('half_made', 'owner', 1, 'creating');

      await expect(sut.assertMovable(database, 2)).rejects.toThrow(
        'The credential half_made is creating: the database moves once its credentials are ready.',
      );
      expect(log).toEqual([]);
    });

    it("is refused when a credential's name is taken on the target infra, in the store or on its engine", async () => {
      await addCredential('app');
      await store.store.query(
        `INSERT INTO credential ("user", database_id, infra_id, privileges, status, password_encrypted)
         VALUES ('app', 2, 2, 'owner', 'ready', 'x')`,
      );
      await expect(sut.assertMovable(database, 2)).rejects.toThrow(
        'The user app already exists on the engine server of the new plan.',
      );

      await store.store.query(`DELETE FROM credential`);
      await addCredential('legacy_app');
      await expect(sut.assertMovable(database, 2)).rejects.toThrow(
        'The user legacy_app already exists on the engine server of the new plan.',
      );
      expect(connected).toEqual([2, 2]);
    });

    it('is allowed when every name is free on the target infra', async () => {
      await addCredential('u_orders');
      await addCredential('reader', 'read-only');

      await sut.assertMovable(database, 2);

      expect(log).toEqual(['engine has u_orders?', 'engine has reader?']);
    });

    it('makes every credential again on the target infra, with its stored password and the limit given', async () => {
      await addCredential('u_orders');
      await addCredential('reader', 'read-only');
      await addCredential('u_secret', 'owner', 2);

      await sut.recreateAll(database, 2, { maxConnections: 3 });

      expect(connected).toEqual([2]);
      expect(engine.createUser.mock.calls.map(([, spec]) => spec)).toEqual([
        {
          database: 'orders',
          user: 'u_orders',
          password: 'old-password',
          privileges: 'owner',
          maxConnections: 3,
        },
        {
          database: 'orders',
          user: 'reader',
          password: 'old-password',
          privileges: 'read-only',
          maxConnections: 3,
        },
      ]);
    });
  });

  describe('the helpers of database operations', () => {
    it('unfinishedStates: the states of work in flight, not ready', async () => {
      await addCredential('u_orders');
      await addCredential('half_made', 'owner', 1, 'creating');
      await addCredential('going', 'owner', 1, 'deleting');
      await addCredential('u_secret', 'owner', 2, 'resetting');

      expect(await sut.unfinishedStates(1)).toEqual(['creating', 'deleting']);
    });

    it("limitsOf: the plan's limit read with the database, else from the store", async () => {
      await store.store.query('UPDATE plan SET max_connections = 9');

      expect(await sut.limitsOf({ ...database, maxConnections: 5 })).toEqual({ maxConnections: 5 });
      expect(await sut.limitsOf({ ...database, maxConnections: 0 })).toEqual({ maxConnections: 0 });
      expect(await sut.limitsOf(database)).toEqual({ maxConnections: 9 });
    });

    it('pass the reads and writes of database operations through to the store', async () => {
      await addCredential('u_orders');
      await addCredential('half_made', 'owner', 1, 'creating');
      await addCredential('u_secret', 'owner', 2, 'resetting');

      expect((await sut.readyOfDatabases([1, 2])).map((c) => c.user)).toEqual(['u_orders']);
      expect((await sut.sealedOfDatabase(2)).map((c) => c.user)).toEqual(['u_secret']);
      expect(await sut.sealedOfDatabase(1, 'creating')).toMatchObject([{ user: 'half_made' }]);
      expect(await sut.databasesWithUnfinishedWork()).toEqual([1, 2]);
      expect((await sut.usersOfOtherDatabases(1, 2)).sort()).toEqual(['half_made', 'u_orders']);

      await sut.markAllDeleting(1);
      expect(await rows()).toEqual([
        'u_orders deleting',
        'half_made deleting',
        'u_secret resetting',
      ]);
      await sut.claimOnInfra(1, 2);
      expect((await sut.usersOfOtherDatabases(2, 2)).sort()).toEqual(['half_made', 'u_orders']);
      await sut.forgetAll(1);
      expect(await rows()).toEqual(['u_secret resetting']);
    });

    it('dropUsers keeps the users it is told to keep', async () => {
      await addCredential('u_orders');
      await addCredential('reader', 'read-only');

      await sut.dropUsers(database, ['u_orders']);

      expect(log).toEqual(['engine drop reader']);
    });
  });

  describe('fault points (DBAAS_TEST_FAULT, where the crash suites stop the process)', () => {
    afterEach(() => delete process.env.DBAAS_TEST_FAULT);
    const armed = (step: string) => (process.env.DBAAS_TEST_FAULT = `fail:${step}@orders`);
    const stopped = { name: 'TestFaultError' };

    it('credential-user-created, database-owner-created: after the engine made the user', async () => {
      armed('credential-user-created');
      await expect(sut.createFor(database, 'app', 'owner')).rejects.toMatchObject(stopped);
      armed('database-owner-created');
      await expect(
        sut.createFor(database, 'app', 'owner', { markReady: false }),
      ).rejects.toMatchObject(stopped);
      // Each failed create dropped its user and its record again.
      expect(log).toEqual([
        'engine has app?',
        'engine create app, store says app creating',
        'engine drop app',
        'engine has app?',
        'engine create app, store says app creating',
        'engine drop app',
      ]);
    });

    it('password-stored, credential-marked-deleting: after the store, before the engine', async () => {
      const id = await addCredential('u_orders', 'read-only');
      armed('password-stored');
      await expect(sut.resetPassword(id, owner)).rejects.toMatchObject(stopped);
      expect(await rows()).toEqual(['u_orders resetting']);

      armed('credential-marked-deleting');
      await expect(sut.remove(id, owner)).rejects.toMatchObject(stopped);
      expect(await rows()).toEqual(['u_orders deleting']);
      expect(engine.dropUser).not.toHaveBeenCalled();
    });

    it('access-revoked, access-restored, move-user-created: after the first user', async () => {
      await addCredential('u_orders');
      armed('access-revoked');
      await expect(sut.revokeAll(database)).rejects.toMatchObject(stopped);
      armed('access-restored');
      await expect(sut.restoreAll(database, false)).rejects.toMatchObject(stopped);
      armed('move-user-created');
      await expect(sut.recreateAll(database, 2, { maxConnections: 0 })).rejects.toMatchObject(
        stopped,
      );
    });
  });
});
