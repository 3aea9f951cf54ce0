import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { ConflictError, EngineUnavailableError, SecretBox } from '@dbaas/core';
import { ConnectedInfra, EngineProvider, InfraAccess } from '@dbaas/engines';
import { OperationRunner, TaskSubject } from '@dbaas/operations';
import { CredentialEntity, DatabaseEntity, TaskEntity } from '@dbaas/persistence';
import { randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { CredentialsService } from './credentials.service';

const owner: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };
const database = {
  id: 5,
  name: 'orders',
  status: 'ready',
  environmentId: 1,
  teamId: 1,
  infraId: 3,
} as DatabaseEntity;

describe('CredentialsService.resetPassword', () => {
  const secrets = new SecretBox(randomBytes(32));
  /** What happened, in order, on the store and on the engine. */
  let log: string[];
  let stored: CredentialEntity;
  let credentials: jest.Mocked<
    Pick<Repository<CredentialEntity>, 'createQueryBuilder' | 'findOneBy' | 'update'>
  >;
  let databases: jest.Mocked<Pick<Repository<DatabaseEntity>, 'findOneBy' | 'findOneByOrFail'>>;
  let engine: jest.Mocked<Pick<EngineProvider, 'ping' | 'setPassword'>>;
  let sut: CredentialsService;

  beforeEach(() => {
    log = [];
    stored = {
      id: 9,
      user: 'u_orders',
      databaseId: 5,
      infraId: 3,
      privileges: 'owner',
      status: 'ready',
      passwordEncrypted: secrets.encrypt('old-password'),
    } as CredentialEntity;
    // reveal() reads through the query builder: a fake that answers the stored record.
    const builder = {
      innerJoin: () => builder,
      where: () => builder,
      andWhere: () => builder,
      addSelect: () => builder,
      getOne: async () => ({ ...stored }),
    };
    credentials = {
      createQueryBuilder: jest.fn(() => builder) as unknown as jest.Mocked<
        Repository<CredentialEntity>
      >['createQueryBuilder'],
      findOneBy: jest.fn(async (_where) => ({ ...stored })),
      update: jest.fn(async (_id, changes) => {
        Object.assign(stored, changes);
        log.push(`store ${changes.status}`);
        return { raw: [], generatedMaps: [] };
      }),
    };
    databases = {
      findOneBy: jest.fn(async (_where) => database),
      findOneByOrFail: jest.fn(async (_where) => database),
    };
    engine = {
      ping: jest.fn(async (_infra) => {
        log.push('engine ping');
        return { version: '10.11' };
      }),
      setPassword: jest.fn(
        async (_infra, _ref, password) =>
          void log.push(
            `engine password ${password === secrets.decrypt(stored.passwordEncrypted) ? 'as stored' : 'NOT as stored'}`,
          ),
      ),
    };
    const infras = {
      connect: jest.fn(
        async () => ({ provider: engine, target: { id: 3 } }) as unknown as ConnectedInfra,
      ),
    };
    const runner = {
      run: jest.fn(
        async (_subject: TaskSubject, _key: string, work: (task: TaskEntity) => Promise<unknown>) =>
          work({ id: 1 } as TaskEntity),
      ),
    };
    sut = new CredentialsService(
      credentials as unknown as Repository<CredentialEntity>,
      databases as unknown as Repository<DatabaseEntity>,
      secrets,
      infras as unknown as InfraAccess,
      new AccessPolicy(),
      runner as unknown as OperationRunner,
    );
  });

  it('stores the new password (resetting) before the engine gets it, then marks it ready', async () => {
    const { password } = await sut.resetPassword(9, owner);

    expect(log).toEqual([
      'engine ping',
      'store resetting',
      'engine password as stored',
      'store ready',
    ]);
    expect(secrets.decrypt(stored.passwordEncrypted)).toBe(password);
    expect(password).not.toBe('old-password');
  });

  it('changes nothing when the engine does not answer its ping', async () => {
    engine.ping.mockRejectedValue(new EngineUnavailableError('mysql at db1:3306 does not answer'));

    await expect(sut.resetPassword(9, owner)).rejects.toBeInstanceOf(EngineUnavailableError);

    expect(credentials.update).not.toHaveBeenCalled();
    expect(secrets.decrypt(stored.passwordEncrypted)).toBe('old-password');
  });

  it('leaves the credential resetting, with the new password, when the engine fails after the ping', async () => {
    engine.setPassword.mockRejectedValue(
      new EngineUnavailableError('mysql at db1:3306 does not answer'),
    );

    await expect(sut.resetPassword(9, owner)).rejects.toBeInstanceOf(EngineUnavailableError);

    // The reconciler puts this password on the engine (see reconcile()).
    expect(stored.status).toBe('resetting');
    expect(secrets.decrypt(stored.passwordEncrypted)).not.toBe('old-password');
  });
});

describe('CredentialsService.createFor', () => {
  const secrets = new SecretBox(randomBytes(32));
  /** What happened, in order, on the store and on the engine. */
  let log: string[];
  /** Users the store already has on infra 3. */
  let storeUsers: string[];
  let credentials: { query: jest.Mock; create: jest.Mock };
  let engine: jest.Mocked<
    Pick<EngineProvider, 'userNameMaxLength' | 'listUsers' | 'createUser' | 'dropUser'>
  >;
  let sut: CredentialsService;

  beforeEach(() => {
    log = [];
    storeUsers = [];
    credentials = {
      query: jest.fn(async (sql: string, params: unknown[]) => {
        if (sql.startsWith('SELECT EXISTS')) {
          log.push('store name check');
          return [{ taken: storeUsers.includes(params[1] as string) }];
        }
        if (sql.startsWith('INSERT INTO credential')) {
          if (storeUsers.includes(params[0] as string)) return [];
          log.push(`store ${String(params[0])} ${String(params[4])}`);
          return [{ id: 11, created_at: new Date() }];
        }
        log.push(`store ${sql.split(' ').slice(0, 3).join(' ')}`);
        return [];
      }),
      create: jest.fn((fields) => Object.assign(new CredentialEntity(), fields)),
    };
    engine = {
      userNameMaxLength: 32,
      listUsers: jest.fn(async (_infra) => {
        log.push('engine list users');
        return ['legacy_app'];
      }),
      createUser: jest.fn(async (_infra, spec) => void log.push(`engine create ${spec.user}`)),
      dropUser: jest.fn(async (_infra, ref) => void log.push(`engine drop ${ref.user}`)),
    };
    const infras = {
      connect: jest.fn(
        async () =>
          ({ provider: engine, target: { id: 3, adminUser: 'root' } }) as unknown as ConnectedInfra,
      ),
    };
    sut = new CredentialsService(
      credentials as unknown as Repository<CredentialEntity>,
      { findOneByOrFail: async () => database } as unknown as Repository<DatabaseEntity>,
      secrets,
      infras as unknown as InfraAccess,
      new AccessPolicy(),
      {} as OperationRunner,
    );
  });

  it('checks the name in the store and on the engine, claims it (creating), then makes the user and marks it ready', async () => {
    const { credential, password } = await sut.createFor(database, 'app', 'read-only');

    expect(log).toEqual([
      'store name check',
      'engine list users',
      'store app creating',
      'engine create app',
      'store UPDATE credential SET',
    ]);
    expect(credential).toMatchObject({ id: 11, user: 'app', status: 'ready' });
    expect(credential).not.toHaveProperty('passwordEncrypted');
    const sealed = credentials.query.mock.calls[1][1][5] as string;
    expect(secrets.decrypt(sealed)).toBe(password);
  });

  it('leaves the record creating when the caller marks it ready itself', async () => {
    const { credential } = await sut.createFor(database, 'app', 'owner', { markReady: false });

    expect(log).toEqual([
      'store name check',
      'engine list users',
      'store app creating',
      'engine create app',
    ]);
    expect(credential.status).toBe('creating');
  });

  it('never takes over a user it did not make: a name on the engine is a 409 and nothing is written', async () => {
    await expect(sut.createFor(database, 'legacy_app', 'owner')).rejects.toBeInstanceOf(
      ConflictError,
    );

    expect(log).toEqual(['store name check', 'engine list users']);
  });

  it('answers 409 with nothing on the engine when the store has the name on this infra', async () => {
    storeUsers = ['app'];

    await expect(sut.createFor(database, 'app', 'owner')).rejects.toThrow(
      'The user app already exists on this engine server.',
    );

    expect(engine.createUser).not.toHaveBeenCalled();
    expect(log).not.toContain('store app creating');
  });

  it('answers 409 naming the state for a database that is lost or in quarantine, touching nothing', async () => {
    await expect(sut.createFor({ ...database, status: 'lost' }, 'app', 'owner')).rejects.toThrow(
      'The database is lost (missing on its engine server): it takes no new credentials.',
    );
    await expect(
      sut.createFor({ ...database, status: 'quarantined' }, 'app', 'owner'),
    ).rejects.toThrow('The database is in quarantine: it takes no new credentials.');
    expect(engine.listUsers).not.toHaveBeenCalled();
    expect(engine.createUser).not.toHaveBeenCalled();
  });

  it('answers 409, not 503, for a name the store has while the engine is down', async () => {
    storeUsers = ['app'];
    engine.listUsers.mockRejectedValue(
      new EngineUnavailableError('mysql at db1:3306 does not answer'),
    );

    await expect(sut.createFor(database, 'app', 'owner')).rejects.toBeInstanceOf(ConflictError);
  });

  it('answers 409 when another create claimed the name between the check and the insert', async () => {
    credentials.query.mockImplementation(async (sql: string) =>
      // The check finds the name free; the insert's ON CONFLICT DO NOTHING returns no row.
      sql.startsWith('SELECT EXISTS') ? [{ taken: false }] : [],
    );

    await expect(sut.createFor(database, 'app', 'owner')).rejects.toThrow(
      'The user app already exists on this engine server.',
    );
    expect(engine.createUser).not.toHaveBeenCalled();
  });

  it('drops the user and the record again when the engine fails half-way', async () => {
    engine.createUser.mockRejectedValue(
      new EngineUnavailableError('mysql at db1:3306 does not answer'),
    );

    await expect(sut.createFor(database, 'app', 'owner')).rejects.toBeInstanceOf(
      EngineUnavailableError,
    );

    expect(log.slice(-2)).toEqual(['engine drop app', 'store DELETE FROM credential']);
  });
});

describe('CredentialsService.revokeAll and dropUsers', () => {
  let log: string[];
  let credentials: { query: jest.Mock };
  let engine: jest.Mocked<Pick<EngineProvider, 'revokeAccess' | 'dropUser'>>;
  let sut: CredentialsService;

  beforeEach(() => {
    log = [];
    credentials = {
      query: jest.fn(async (_sql: string, _params: unknown[]) => {
        log.push('store reads the credentials');
        return [{ id: 1, user: 'u_orders', status: 'ready' }];
      }),
    };
    engine = {
      revokeAccess: jest.fn(async (_infra, ref) => void log.push(`engine revoke ${ref.user}`)),
      dropUser: jest.fn(async (_infra, ref) => void log.push(`engine drop ${ref.user}`)),
    };
    const infras = {
      connect: jest.fn(
        async () => ({ provider: engine, target: { id: 3 } }) as unknown as ConnectedInfra,
      ),
    };
    sut = new CredentialsService(
      credentials as unknown as Repository<CredentialEntity>,
      {} as Repository<DatabaseEntity>,
      new SecretBox(randomBytes(32)),
      infras as unknown as InfraAccess,
      new AccessPolicy(),
      {} as OperationRunner,
    );
  });

  it('use the credentials read with the database under its lock, without another read', async () => {
    const read = {
      ...database,
      credentials: [
        { id: 1, user: 'u_orders' },
        { id: 2, user: 'reporting' },
      ],
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

  it('read the credentials from the store when the database came without them', async () => {
    await sut.dropUsers({ ...database } as DatabaseEntity);

    expect(log).toEqual(['store reads the credentials', 'engine drop u_orders']);
  });
});

describe('CredentialsService.remove', () => {
  /** What happened, in order, on the store and on the engine. */
  let log: string[];
  let stored: CredentialEntity;
  /** The other owner credentials of the database, as the store counts them. */
  let otherOwners: number;
  let credentials: jest.Mocked<
    Pick<Repository<CredentialEntity>, 'createQueryBuilder' | 'findOneBy' | 'update'>
  > & { query: jest.Mock };
  let sut: CredentialsService;

  beforeEach(() => {
    log = [];
    otherOwners = 0;
    stored = {
      id: 9,
      user: 'u_orders',
      databaseId: 5,
      infraId: 3,
      privileges: 'owner',
      status: 'ready',
    } as CredentialEntity;
    const builder = {
      innerJoin: () => builder,
      where: () => builder,
      andWhere: () => builder,
      addSelect: () => builder,
      getOne: async () => ({ ...stored, passwordEncrypted: secrets.encrypt('pw') }),
    };
    const secrets = new SecretBox(randomBytes(32));
    credentials = {
      createQueryBuilder: jest.fn(() => builder) as unknown as jest.Mocked<
        Repository<CredentialEntity>
      >['createQueryBuilder'],
      findOneBy: jest.fn(async (_where) => ({ ...stored })),
      update: jest.fn(async (_id, changes) => {
        log.push(`store ${changes.status}`);
        return { raw: [], generatedMaps: [] };
      }),
      query: jest.fn(async (sql: string, params?: unknown[]) => {
        if (sql.includes('count(*)')) {
          log.push(`store counts other owners of database ${String(params?.[0])}`);
          return [{ others: otherOwners }];
        }
        log.push(`store ${sql.split(' ').slice(0, 3).join(' ')}`);
        return [];
      }),
    };
    const engine = {
      ping: jest.fn(async () => void log.push('engine ping')),
      dropUser: jest.fn(async (_infra, ref) => void log.push(`engine drop ${ref.user}`)),
    };
    const runner = {
      run: jest.fn(
        async (
          subject: TaskSubject,
          _key: string,
          work: (task: TaskEntity) => Promise<unknown>,
        ) => {
          log.push(`task ${subject.type}`);
          return work({ id: 1 } as TaskEntity);
        },
      ),
    };
    sut = new CredentialsService(
      credentials as unknown as Repository<CredentialEntity>,
      {
        findOneBy: async () => database,
        findOneByOrFail: async () => database,
      } as unknown as Repository<DatabaseEntity>,
      secrets,
      {
        connect: async () => ({ provider: engine, target: { id: 3 } }) as unknown as ConnectedInfra,
      } as unknown as InfraAccess,
      new AccessPolicy(),
      runner as unknown as OperationRunner,
    );
  });

  it('refuses the last owner credential (409) before any task, engine or store change', async () => {
    await expect(sut.remove(9, owner)).rejects.toBeInstanceOf(ConflictError);

    expect(log).toEqual(['store counts other owners of database 5']);
  });

  it('drops an owner credential while another owner remains, checking again under the lock', async () => {
    otherOwners = 1;

    await sut.remove(9, owner);

    expect(log).toEqual([
      'store counts other owners of database 5',
      'task delete_credential',
      'store counts other owners of database 5',
      'engine ping',
      'store deleting',
      'engine drop u_orders',
      'store DELETE FROM credential',
    ]);
  });

  it('refuses under the lock when the other owner went meanwhile, with nothing changed', async () => {
    otherOwners = 1;
    credentials.findOneBy.mockImplementation(async () => {
      otherOwners = 0; // another request dropped it while this one waited for the lock
      return { ...stored };
    });

    await expect(sut.remove(9, owner)).rejects.toBeInstanceOf(ConflictError);

    expect(log).toEqual([
      'store counts other owners of database 5',
      'task delete_credential',
      'store counts other owners of database 5',
    ]);
  });

  it.each(['read-write', 'read-only'] as const)(
    'drops a %s credential without counting owners',
    async (privileges) => {
      stored.privileges = privileges;

      await sut.remove(9, owner);

      expect(log).toEqual([
        'task delete_credential',
        'engine ping',
        'store deleting',
        'engine drop u_orders',
        'store DELETE FROM credential',
      ]);
    },
  );
});
