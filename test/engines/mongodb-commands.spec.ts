import { EngineUnavailableError } from '@dbaas/core';
import { Document, MongoNetworkError, MongoServerError } from 'mongodb';
import {
  COMMAND_TIMEOUT_MS,
  CONNECT_TIMEOUT_MS,
  EngineCommandError,
  InfraTarget,
  MongoClientFactory,
  MongoClientLike,
  MongoDbLike,
  MongodbProvider,
  connectMongoClient,
} from '@dbaas/engines';

/**
 * The MongoDB provider at the command level, against a faked driver `Db`.
 * No MongoDB server can be installed on these machines (Debian has no package and the
 * npm in-memory servers download one at run time), so this is where the exact commands
 * are checked; the shared contract suite runs against a real server when
 * DBAAS_TEST_MONGODB_URL is set.
 */
describe('MongodbProvider commands', () => {
  const infra: InfraTarget = {
    id: 7,
    addresses: ['m1:27017', 'm2:27018'],
    adminUser: 'root',
    adminPassword: 'admin-secret-pw',
  };
  let dbs: Record<string, jest.Mocked<MongoDbLike>>;
  let client: jest.Mocked<MongoClientLike>;
  let connect: jest.MockedFunction<MongoClientFactory>;
  let sut: MongodbProvider;

  /** A fake Db answering each command by its name (the command document's first key). */
  const fakeDb = (
    answers: Record<string, (cmd: Document) => Document | Promise<Document>> = {},
  ) => ({
    command: jest.fn(async (cmd: Document) => {
      const name = Object.keys(cmd)[0];
      return answers[name] ? answers[name](cmd) : { ok: 1 };
    }),
  });
  const commandsOf = (name: string) => dbs[name]?.command.mock.calls.map(([cmd]) => cmd) ?? [];

  beforeEach(() => {
    dbs = {
      admin: fakeDb({ buildInfo: () => ({ version: '7.0.4', ok: 1 }) }),
      shop: fakeDb({ usersInfo: () => ({ users: [], ok: 1 }) }),
    };
    client = {
      db: jest.fn((name: string) => (dbs[name] ??= fakeDb())),
      close: jest.fn(async () => undefined),
    };
    connect = jest.fn<Promise<MongoClientLike>, [InfraTarget]>(async () => client);
    sut = new MongodbProvider(connect);
  });

  it('ping returns the buildInfo version, connecting once per infra', async () => {
    await expect(sut.ping(infra)).resolves.toEqual({ version: '7.0.4' });
    await sut.ping(infra);
    expect(connect).toHaveBeenCalledTimes(1);
    expect(commandsOf('admin')).toEqual([{ buildInfo: 1 }, { buildInfo: 1 }]);
  });

  it('a changed admin password gives a new client and closes the old one', async () => {
    await sut.ping(infra);
    await sut.ping({ ...infra, adminPassword: 'rotated' });
    expect(connect).toHaveBeenCalledTimes(2);
    expect(client.close).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['owner', 'dbOwner'],
    ['read-write', 'readWrite'],
    ['read-only', 'read'],
  ] as const)(
    'createUser (%s) sends createUser with the %s role on the database',
    async (privileges, role) => {
      await sut.createUser(infra, {
        database: 'shop',
        user: 'u_shop',
        password: 'pw-123456',
        privileges,
      });
      expect(commandsOf('shop')).toEqual([
        { usersInfo: { user: 'u_shop', db: 'shop' } },
        { createUser: 'u_shop', pwd: 'pw-123456', roles: [{ role, db: 'shop' }] },
      ]);
    },
  );

  it('createUser on an existing user updates its password and roles (idempotent)', async () => {
    dbs.shop = fakeDb({ usersInfo: () => ({ users: [{ user: 'u_shop', db: 'shop' }], ok: 1 }) });
    await sut.createUser(infra, {
      database: 'shop',
      user: 'u_shop',
      password: 'pw-2',
      privileges: 'read-only',
    });
    expect(commandsOf('shop')[1]).toEqual({
      updateUser: 'u_shop',
      pwd: 'pw-2',
      roles: [{ role: 'read', db: 'shop' }],
    });
  });

  it('createUser racing another creation falls back to updateUser', async () => {
    dbs.shop = fakeDb({
      usersInfo: () => ({ users: [], ok: 1 }),
      createUser: () => {
        throw new MongoServerError({ code: 51003, errmsg: 'User "u_shop@shop" already exists' });
      },
    });
    await sut.createUser(infra, {
      database: 'shop',
      user: 'u_shop',
      password: 'pw',
      privileges: 'owner',
    });
    expect(commandsOf('shop').at(-1)).toEqual({
      updateUser: 'u_shop',
      pwd: 'pw',
      roles: [{ role: 'dbOwner', db: 'shop' }],
    });
  });

  it('setPassword sends updateUser with the new password only', async () => {
    await sut.setPassword(infra, { database: 'shop', user: 'u_shop' }, 'new-pw');
    expect(commandsOf('shop')).toEqual([{ updateUser: 'u_shop', pwd: 'new-pw' }]);
  });

  it('revokeAccess sets an unknown password, removes every role and kills the sessions', async () => {
    dbs.shop = fakeDb({ usersInfo: () => ({ users: [{ user: 'u_shop', db: 'shop' }], ok: 1 }) });
    await sut.revokeAccess(infra, { database: 'shop', user: 'u_shop' });
    const update = commandsOf('shop')[1];
    expect(update).toEqual({ updateUser: 'u_shop', pwd: expect.any(String), roles: [] });
    expect(update.pwd.length).toBeGreaterThanOrEqual(32);
    expect(commandsOf('admin')).toEqual([
      { killAllSessionsByPattern: [{ users: [{ user: 'u_shop', db: 'shop' }] }] },
    ]);
  });

  it('revokeAccess of a missing user is a no-op', async () => {
    await sut.revokeAccess(infra, { database: 'shop', user: 'gone' });
    expect(commandsOf('shop')).toEqual([{ usersInfo: { user: 'gone', db: 'shop' } }]);
  });

  it('restoreAccess gives the password and roles back', async () => {
    dbs.shop = fakeDb({ usersInfo: () => ({ users: [{ user: 'u_shop', db: 'shop' }], ok: 1 }) });
    await sut.restoreAccess(infra, {
      database: 'shop',
      user: 'u_shop',
      password: 'back',
      privileges: 'read-write',
    });
    expect(commandsOf('shop')[1]).toEqual({
      updateUser: 'u_shop',
      pwd: 'back',
      roles: [{ role: 'readWrite', db: 'shop' }],
    });
  });

  it('dropUser kills the sessions then drops the user; a missing user is a no-op', async () => {
    await sut.dropUser(infra, { database: 'shop', user: 'u_shop' });
    expect(commandsOf('admin')).toEqual([
      { killAllSessionsByPattern: [{ users: [{ user: 'u_shop', db: 'shop' }] }] },
    ]);
    expect(commandsOf('shop')).toEqual([{ dropUser: 'u_shop' }]);

    dbs.shop = fakeDb({
      dropUser: () => {
        throw new MongoServerError({ code: 11, errmsg: 'User u_shop@shop not found' });
      },
    });
    await expect(
      sut.dropUser(infra, { database: 'shop', user: 'u_shop' }),
    ).resolves.toBeUndefined();
  });

  it('dropDatabase ends the sessions of its users and drops it', async () => {
    dbs.shop = fakeDb({
      usersInfo: () => ({
        users: [
          { user: 'a', db: 'shop' },
          { user: 'b', db: 'shop' },
        ],
        ok: 1,
      }),
    });
    await sut.dropDatabase(infra, 'shop');
    expect(commandsOf('shop')).toEqual([{ usersInfo: 1 }, { dropDatabase: 1 }]);
    expect(commandsOf('admin')).toEqual([
      {
        killAllSessionsByPattern: [
          {
            users: [
              { user: 'a', db: 'shop' },
              { user: 'b', db: 'shop' },
            ],
          },
        ],
      },
    ]);
  });

  it('usedSize is dbStats dataSize + indexSize', async () => {
    dbs.shop = fakeDb({
      dbStats: () => ({ dataSize: 1500, indexSize: 500, storageSize: 99999, ok: 1 }),
    });
    await expect(sut.usedSize(infra, 'shop')).resolves.toBe(2000);
    expect(commandsOf('shop')).toEqual([{ dbStats: 1, scale: 1 }]);
  });

  it('endpoint lists every address, with the database as authentication database', () => {
    expect(sut.endpoint(infra.addresses, 'shop')).toBe(
      'mongodb://<user>:<password>@m1:27017,m2:27018/shop',
    );
  });

  it('lists databases with data or users, without the system ones', async () => {
    dbs.admin = fakeDb({
      listDatabases: () => ({
        databases: [
          { name: 'admin' },
          { name: 'config' },
          { name: 'local' },
          { name: 'shop' },
          { name: 'orders' },
          { name: 'Weird-Name' },
        ],
        ok: 1,
      }),
      usersInfo: () => ({
        users: [
          { user: 'root', db: 'admin' },
          { user: 'u_new', db: 'fresh' },
          { user: 'u_shop', db: 'shop' },
        ],
        ok: 1,
      }),
    });
    // toStrictEqual: toEqual would not see a name mapped to `undefined`.
    await expect(sut.listDatabases(infra)).resolves.toStrictEqual(['fresh', 'orders', 'shop']);
    expect(commandsOf('admin')).toEqual([
      { listDatabases: 1, nameOnly: true },
      { usersInfo: { forAllDBs: true } },
    ]);
  });

  it('lists the users of manageable databases, sorted, without the admin or other names', async () => {
    dbs.admin = fakeDb({
      usersInfo: () => ({
        users: [
          { user: 'u_shop', db: 'shop' },
          { user: 'root', db: 'admin' },
          { user: 'u_sys', db: 'admin' },
          { user: 'u_cfg', db: 'config' },
          { user: 'u_odd', db: 'Weird-Name' },
          { user: 'root', db: 'shop' },
          { user: 'Not-Ours', db: 'shop' },
          { user: 'u_new', db: 'fresh' },
          { user: 'u_shop', db: 'orders' },
        ],
        ok: 1,
      }),
    });
    await expect(sut.listUsers(infra)).resolves.toStrictEqual(['u_new', 'u_shop']);
    expect(commandsOf('admin')).toEqual([{ usersInfo: { forAllDBs: true } }]);
  });

  it('databaseExists: a database with data, or one with users only; never a system one', async () => {
    dbs.admin = fakeDb({
      listDatabases: (cmd) => ({
        databases: cmd.filter.name === 'shop' ? [{ name: 'shop' }] : [],
        ok: 1,
      }),
    });
    dbs.fresh = fakeDb({ usersInfo: () => ({ users: [{ user: 'u_new', db: 'fresh' }], ok: 1 }) });
    dbs.none = fakeDb({ usersInfo: () => ({ users: [], ok: 1 }) });
    await expect(sut.databaseExists(infra, 'shop')).resolves.toBe(true);
    await expect(sut.databaseExists(infra, 'fresh')).resolves.toBe(true);
    await expect(sut.databaseExists(infra, 'none')).resolves.toBe(false);
    await expect(sut.databaseExists(infra, 'admin')).resolves.toBe(false);
    expect(commandsOf('admin')).toContainEqual({
      listDatabases: 1,
      nameOnly: true,
      filter: { name: 'none' },
    });
    expect(commandsOf('none')).toEqual([{ usersInfo: 1 }]);
  });

  it.each(['admin', 'config', 'local'])(
    'databaseExists(%s) is false without asking the server, where it always exists',
    async (name) => {
      dbs.admin = fakeDb({
        listDatabases: () => ({ databases: [{ name }], ok: 1 }),
        usersInfo: () => ({ users: [{ user: 'root', db: name }], ok: 1 }),
      });
      await expect(sut.databaseExists(infra, name)).resolves.toBe(false);
      expect(connect).not.toHaveBeenCalled();
    },
  );

  it('userExists asks for that user in every database', async () => {
    dbs.admin = fakeDb({
      usersInfo: (cmd) => ({
        users: cmd.filter.user === 'u_shop' ? [{ user: 'u_shop', db: 'shop' }] : [],
        ok: 1,
      }),
    });
    await expect(sut.userExists(infra, 'u_shop')).resolves.toBe(true);
    await expect(sut.userExists(infra, 'u_other')).resolves.toBe(false);
    expect(commandsOf('admin')).toEqual([
      { usersInfo: { forAllDBs: true }, filter: { user: 'u_shop' } },
      { usersInfo: { forAllDBs: true }, filter: { user: 'u_other' } },
    ]);
  });

  it('validates names before sending anything, and never touches the admin user', async () => {
    await expect(sut.createDatabase(infra, 'admin; drop')).rejects.toThrow(/invalid database name/);
    await expect(sut.dropUser(infra, { database: 'shop', user: 'Robert' })).rejects.toThrow(
      /invalid user name/,
    );
    await expect(sut.setPassword(infra, { database: 'shop', user: 'root' }, 'x')).rejects.toThrow(
      /infra admin/,
    );
    expect(connect).not.toHaveBeenCalled();
  });

  it('a connection failure is EngineUnavailableError naming the addresses, never the password; the next call reconnects', async () => {
    connect.mockRejectedValueOnce(
      new MongoNetworkError('connect ECONNREFUSED m1:27017 (password admin-secret-pw)'),
    );
    const error = await sut.ping(infra).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toContain('mongodb at m1:27017,m2:27018');
    expect((error as Error).message).not.toContain('admin-secret-pw');
    await expect(sut.ping(infra)).resolves.toEqual({ version: '7.0.4' });
  });

  it('an admin authentication failure is EngineUnavailableError', async () => {
    connect.mockRejectedValueOnce(
      new MongoServerError({ code: 18, errmsg: 'Authentication failed.' }),
    );
    await expect(sut.ping(infra)).rejects.toBeInstanceOf(EngineUnavailableError);
  });

  it('a refused command is a plain error without the password', async () => {
    dbs.shop = fakeDb({
      updateUser: () => {
        throw new MongoServerError({ code: 13, errmsg: 'not authorized to set pwd new-secret-pw' });
      },
    });
    const error = await sut
      .setPassword(infra, { database: 'shop', user: 'u_shop' }, 'new-secret-pw')
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).not.toContain('new-secret-pw');
  });

  it('close closes the clients', async () => {
    await sut.ping(infra);
    await sut.close();
    expect(client.close).toHaveBeenCalled();
  });
  it('its facts: a database only exists once written, none listed by name, no size limit', () => {
    expect(sut).toMatchObject({
      type: 'mongodb',
      displayName: 'MongoDB',
      catalogTags: ['mongodb', 'document', 'nosql'],
      defaultPort: 27017,
      reservedNames: ['admin', 'config', 'local'],
      reservedUserNames: ['admin', 'root'],
      reservedUserPrefixes: ['system_'],
      listsEveryDatabase: false,
      enforcesSizeLimit: false,
    });
  });

  it('createDatabase checks the name, then only that the server answers', async () => {
    await sut.createDatabase(infra, 'shop');
    expect(commandsOf('admin')).toEqual([{ ping: 1 }]);
    expect(commandsOf('shop')).toEqual([]);
  });

  it('restrictWrites is refused (no size limit on MongoDB); allowWrites has nothing to undo', async () => {
    const refused = await sut.restrictWrites().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EngineCommandError);
    expect((refused as Error).message).toMatch(/size limits are not enforced on MongoDB/);
    await expect(sut.allowWrites()).resolves.toBeUndefined();
    expect(connect).not.toHaveBeenCalled();
  });

  it('dropDatabase of a database without users ends no session (an empty pattern is never sent)', async () => {
    await sut.dropDatabase(infra, 'shop');
    expect(commandsOf('shop')).toEqual([{ usersInfo: 1 }, { dropDatabase: 1 }]);
    expect(commandsOf('admin')).toEqual([]);
  });

  it('a reply without its users or databases field counts as none', async () => {
    const bare = fakeDb();
    client.db.mockImplementation(() => bare);
    await sut.dropDatabase(infra, 'shop');
    await expect(sut.databaseExists(infra, 'shop')).resolves.toBe(false);
    await expect(sut.userExists(infra, 'u_shop')).resolves.toBe(false);
    await expect(sut.listDatabases(infra)).resolves.toStrictEqual([]);
    await expect(sut.listUsers(infra)).resolves.toStrictEqual([]);
    await sut.createUser(infra, {
      database: 'shop',
      user: 'u_shop',
      password: 'pw',
      privileges: 'owner',
    });
    const names = bare.command.mock.calls.map(([cmd]) => Object.keys(cmd)[0]);
    expect(names).not.toContain('killAllSessionsByPattern');
    expect(names).not.toContain('updateUser');
    expect(names).toContain('createUser');
  });

  it('createUser fails on any other createUser error, without an updateUser', async () => {
    dbs.shop = fakeDb({
      createUser: () => {
        throw new MongoServerError({ code: 13, errmsg: 'not authorized on shop' });
      },
    });
    await expect(
      sut.createUser(infra, {
        database: 'shop',
        user: 'u_shop',
        password: 'pw',
        privileges: 'owner',
      }),
    ).rejects.toThrow(/not authorized on shop/);
    expect(commandsOf('shop').map((cmd) => Object.keys(cmd)[0])).toEqual([
      'usersInfo',
      'createUser',
    ]);
  });

  it('dropUser fails on any dropUser error other than "user not found"', async () => {
    dbs.shop = fakeDb({
      dropUser: () => {
        throw new MongoServerError({ code: 13, errmsg: 'not authorized on shop' });
      },
    });
    await expect(sut.dropUser(infra, { database: 'shop', user: 'u_shop' })).rejects.toThrow(
      /not authorized on shop/,
    );
  });

  it('ending sessions is best effort: refused, the user is still dropped; unreachable, the call fails', async () => {
    dbs.admin = fakeDb({
      killAllSessionsByPattern: () => {
        throw new MongoServerError({ code: 13, errmsg: 'not authorized to kill sessions' });
      },
    });
    await sut.dropUser(infra, { database: 'shop', user: 'u_shop' });
    expect(commandsOf('shop')).toEqual([{ dropUser: 'u_shop' }]);

    dbs.admin = fakeDb({
      killAllSessionsByPattern: () => {
        throw new MongoNetworkError('connection reset');
      },
    });
    await expect(sut.dropUser(infra, { database: 'shop', user: 'u_other' })).rejects.toBeInstanceOf(
      EngineUnavailableError,
    );
    expect(commandsOf('shop')).toEqual([{ dropUser: 'u_shop' }]);
  });

  it('a refused createUser or revokeAccess never shows the password it sent', async () => {
    const echo = (cmd: Document) => {
      throw new MongoServerError({ code: 2, errmsg: `bad command ${JSON.stringify(cmd)}` });
    };
    dbs.shop = fakeDb({ usersInfo: () => ({ users: [], ok: 1 }), createUser: echo });
    const created = await sut
      .createUser(infra, {
        database: 'shop',
        user: 'u_shop',
        password: 'create-secret-pw',
        privileges: 'owner',
      })
      .catch((e: unknown) => e);
    expect((created as Error).message).toContain('bad command');
    expect((created as Error).message).not.toContain('create-secret-pw');

    dbs.shop = fakeDb({
      usersInfo: () => ({ users: [{ user: 'u_shop', db: 'shop' }], ok: 1 }),
      updateUser: echo,
    });
    const revoked = await sut
      .revokeAccess(infra, { database: 'shop', user: 'u_shop' })
      .catch((e: unknown) => e);
    const sent = commandsOf('shop')[1].pwd as string;
    expect((revoked as Error).message).toContain('bad command');
    expect((revoked as Error).message).not.toContain(sent);
  });

  describe('which errors mean "no server" (EngineUnavailableError)', () => {
    const failingWith = (error: unknown) => {
      // Not always an Error: what a driver rejects with is not ours to choose.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      dbs.admin = fakeDb({ buildInfo: () => Promise.reject(error) });
      return sut.ping(infra).catch((e: unknown) => e);
    };

    it('a subclass of a listed driver error, by its class chain (MongoPoolClearedError)', async () => {
      // The driver's own class, not exported: named MongoPoolClearedError, a MongoNetworkError.
      const { PoolClearedError } = jest.requireActual<{
        PoolClearedError: new (pool: { address: string }) => Error;
      }>('mongodb/lib/cmap/errors');
      const cleared = new PoolClearedError({ address: 'm1:27017' });
      expect(cleared.name).toBe('MongoPoolClearedError');
      expect(cleared).toBeInstanceOf(MongoNetworkError);
      await expect(failingWith(cleared)).resolves.toBeInstanceOf(EngineUnavailableError);
    });

    it('an error that only carries a listed name', async () => {
      const named = Object.assign(new Error('no primary'), { name: 'MongoServerSelectionError' });
      await expect(failingWith(named)).resolves.toBeInstanceOf(EngineUnavailableError);
    });

    it.each([[null], [undefined], ['text'], [{ code: 13 }]])(
      'anything else thrown (%p) is a refused command, not a crash',
      async (thrown) => {
        const error = await failingWith(thrown);
        expect(error).toBeInstanceOf(EngineCommandError);
        expect(error).not.toBeInstanceOf(EngineUnavailableError);
      },
    );
  });

  describe('securityWarnings', () => {
    const withOptions = (answer: () => Document | Promise<Document>) => {
      dbs.admin = fakeDb({ getCmdLineOpts: answer });
    };

    it('warns when access control is off, naming the address', async () => {
      withOptions(() => ({ parsed: { net: { port: 27017 } }, ok: 1 }));
      const warnings = await sut.securityWarnings(infra);
      expect(warnings).toEqual([expect.stringMatching(/without access control.*m1:27017/)]);
      expect(commandsOf('admin')).toEqual([{ getCmdLineOpts: 1 }]);
    });

    it.each([
      [{ security: { authorization: 'enabled' } }],
      [{ security: { keyFile: '/etc/mongo/key' } }],
    ])('finds nothing when the server checks logins: %j', async (parsed) => {
      withOptions(() => ({ parsed, ok: 1 }));
      await expect(sut.securityWarnings(infra)).resolves.toEqual([]);
    });

    it('skips the check when the admin may not run getCmdLineOpts', async () => {
      withOptions(() => {
        throw new MongoServerError({ message: 'not authorized on admin', code: 13 });
      });
      await expect(sut.securityWarnings(infra)).resolves.toEqual([]);
    });

    it('reports an unreachable server as unavailable', async () => {
      withOptions(() => {
        throw new MongoNetworkError('connection refused');
      });
      await expect(sut.securityWarnings(infra)).rejects.toBeInstanceOf(EngineUnavailableError);
    });
  });

  describe("connectMongoClient, with the driver's MongoClient faked", () => {
    type Made = { url: string; options: Document; connect: jest.Mock; close: jest.Mock };
    let made: Made[];
    let connectError: Error | null;

    beforeEach(() => {
      made = [];
      connectError = null;
      jest.doMock('mongodb', () => ({
        MongoClient: jest.fn((url: string, options: Document) => {
          const client: Made = {
            url,
            options,
            connect: jest.fn(async () => {
              if (connectError) throw connectError;
            }),
            close: jest.fn(async () => undefined),
          };
          made.push(client);
          return client;
        }),
      }));
    });
    afterEach(() => jest.dontMock('mongodb'));

    it('connects to every address as the admin, authenticated on admin, every wait bounded', async () => {
      const connected = await connectMongoClient(infra);
      expect(made).toHaveLength(1);
      expect(connected).toBe(made[0]);
      expect(made[0].url).toBe('mongodb://m1:27017,m2:27018/');
      expect(made[0].options).toEqual({
        auth: { username: 'root', password: 'admin-secret-pw' },
        authSource: 'admin',
        serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS,
        connectTimeoutMS: CONNECT_TIMEOUT_MS,
        socketTimeoutMS: COMMAND_TIMEOUT_MS,
        maxPoolSize: 4,
        appName: 'dbaas',
      });
      expect(made[0].connect).toHaveBeenCalledTimes(1);
      expect(made[0].close).not.toHaveBeenCalled();
    });

    it('closes the client when its connect fails, and throws the failure', async () => {
      connectError = new MongoNetworkError('connect ECONNREFUSED m1:27017');
      await expect(connectMongoClient(infra)).rejects.toBe(connectError);
      expect(made[0].close).toHaveBeenCalledTimes(1);
    });
  });
});
