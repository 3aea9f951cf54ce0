import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { ConflictError, EngineUnavailableError, NotFoundError, SecretBox } from '@dbaas/core';
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
    >
  >;
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
    };
    const infras = {
      connect: async () =>
        ({ provider: engine, target: { id: 1, adminUser: 'root' } }) as unknown as ConnectedInfra,
    };
    const runner = {
      run: async (
        subject: TaskSubject,
        _key: string,
        work: (task: TaskRecord) => Promise<unknown>,
      ) => {
        log.push(`task ${subject.type}`);
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

      await expect(sut.remove(id, owner)).rejects.toBeInstanceOf(ConflictError);

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
      await expect(sut.reveal(theirs, owner)).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
