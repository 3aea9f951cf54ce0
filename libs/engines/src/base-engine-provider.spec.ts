import { EngineUnavailableError } from '@dbaas/core';
import { AdminSession, BaseEngineProvider } from './base-engine-provider';
import { EngineCommandError } from './common/engine-errors';
import { InfraTarget, Privileges, UserSpec } from './engine-provider';

const infra: InfraTarget = {
  id: 3,
  addresses: ['db1:7000', 'db2:7001'],
  adminUser: 'boss',
  adminPassword: 'admin-secret-pw',
};

type Run = (statement: string) => Promise<string>;

/** A provider whose "engine" is a function: enough to exercise everything the base owns. */
class FakeProvider extends BaseEngineProvider<Run> {
  static readonly type = 'fake';
  readonly displayName = 'Fake';
  readonly catalogTags = ['fake'];
  readonly defaultPort = 7000;
  readonly userNameMaxLength = 8;
  protected readonly databaseNameMaxLength = 6;
  readonly reservedNames = [];
  readonly reservedUserNames = ['sys'];
  readonly reservedUserPrefixes = ['sys_'];
  protected override readonly protectedUsers = ['sys'];
  readonly listsEveryDatabase = true;
  readonly dumpTool = { atomicRestore: true, dump: jest.fn(), restore: jest.fn() };
  protected readonly urlScheme = 'fake';
  protected readonly multiHostUrl = true;

  /** What acquireAdmin does next: hand out `run`, or throw this. */
  connectError: Error | null = null;
  run: jest.MockedFunction<Run> = jest.fn(async (statement: string) => `ran ${statement}`);
  released: unknown[] = [];
  created: UserSpec[] = [];

  protected async acquireAdmin(): Promise<AdminSession<Run>> {
    if (this.connectError) throw this.connectError;
    return { admin: this.run, release: (failure) => void this.released.push(failure) };
  }

  protected isUnavailable(error: unknown): boolean {
    return /ECONNREFUSED/.test(String((error as Error)?.message));
  }

  /** Exposes the protected helpers to the tests. */
  exec(statement: string, secrets: string[] = []): Promise<string> {
    return this.withAdmin(infra, secrets, (run) => run(statement));
  }
  names(database: string, user: string): [string, string] {
    return [this.databaseName(database), this.userName(user)];
  }
  privileges(privileges: string): Privileges {
    return this.checkPrivileges(privileges as Privileges);
  }
  guard(user: string): void {
    this.assertNotProtected(user, infra);
  }
  manageable(name: string): boolean {
    return this.isManageableName(name);
  }

  async createUser(_infra: InfraTarget, spec: UserSpec): Promise<void> {
    this.created.push(spec);
  }
  ping = jest.fn();
  createDatabase = jest.fn();
  dropDatabase = jest.fn();
  dropUser = jest.fn();
  setPassword = jest.fn();
  revokeAccess = jest.fn();
  restrictWrites = jest.fn();
  allowWrites = jest.fn();
  usedSize = jest.fn();
  databaseExists = jest.fn();
  userExists = jest.fn();
  listDatabases = jest.fn();
  listUsers = jest.fn();
  securityWarnings = jest.fn();
  close = jest.fn();
}

describe('BaseEngineProvider', () => {
  let sut: FakeProvider;
  beforeEach(() => {
    sut = new FakeProvider();
  });

  it('takes its type from the class', () => {
    expect(sut.type).toBe('fake');
  });

  it('enforces size limits unless the provider says otherwise', () => {
    expect(sut.enforcesSizeLimit).toBe(true);
  });

  describe('the admin connection', () => {
    it('runs the work and gives the connection back without a failure', async () => {
      await expect(sut.exec('SELECT 1')).resolves.toBe('ran SELECT 1');
      expect(sut.released).toEqual([undefined]);
    });

    it('turns a failed connect the engine calls unreachable into EngineUnavailableError, admin password removed', async () => {
      sut.connectError = new Error('ECONNREFUSED as boss/admin-secret-pw');
      const error = await sut.exec('SELECT 1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect((error as Error).message).toBe(
        'fake at db1:7000,db2:7001 is unavailable: ECONNREFUSED as boss/***',
      );
      expect(sut.released).toEqual([]);
    });

    it('turns a refused statement into EngineCommandError with every secret removed, and gives the failure back', async () => {
      const cause = Object.assign(new Error("syntax near 'user-pw-1234' (admin-secret-pw)"), {
        code: 'E42',
        sql: "SET PASSWORD 'user-pw-1234'",
      });
      sut.run.mockRejectedValueOnce(cause);
      const error = await sut.exec('SET PASSWORD', ['user-pw-1234']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineCommandError);
      expect((error as EngineCommandError).message).toBe("fake: syntax near '***' (***)");
      expect((error as EngineCommandError).code).toBe('E42');
      expect(Object.keys(error as object)).not.toContain('sql');
      expect(sut.released).toEqual([cause]);
    });

    it('passes its own errors through as they are', async () => {
      const refused = new EngineCommandError('fake', 'role x does not exist');
      sut.run.mockRejectedValueOnce(refused);
      await expect(sut.exec('x')).rejects.toBe(refused);
    });
  });

  describe('name checks', () => {
    it('returns names within the rule and the limits', () => {
      expect(sut.names('shop_1', 'u_shop_1')).toEqual(['shop_1', 'u_shop_1']);
    });

    it('refuses a database name over its limit and a user name over its own, before any statement', () => {
      expect(() => sut.names('shop_12', 'u')).toThrow(
        'fake: invalid database name "shop_12" (must match /^[a-z][a-z0-9_]*$/ and be at most 6 characters)',
      );
      expect(() => sut.names('shop', 'u_shop_12')).toThrow(/invalid user name "u_shop_12".*8/);
      expect(() => sut.names('Shop', 'u')).toThrow(/invalid database name/);
      expect(sut.run).not.toHaveBeenCalled();
    });
  });

  describe('privilege guard', () => {
    it.each(['owner', 'read-write', 'read-only'])('accepts %s', (privileges) => {
      expect(sut.privileges(privileges)).toBe(privileges);
    });

    it('refuses unknown privileges', () => {
      expect(() => sut.privileges('superuser')).toThrow('fake: unknown privileges superuser');
    });

    it("refuses the infra's admin and the engine's protected accounts", () => {
      expect(() => sut.guard('boss')).toThrow(
        new EngineCommandError('fake', 'user boss is the infra admin; dbaas does not manage it'),
      );
      expect(() => sut.guard('sys')).toThrow(
        new EngineCommandError('fake', 'user sys is reserved; dbaas does not manage it'),
      );
      expect(() => sut.guard('sys_app')).not.toThrow();
      expect(() => sut.guard('app')).not.toThrow();
    });
  });

  it('restoreAccess converges as createUser does', async () => {
    const spec: UserSpec = { database: 'shop', user: 'app', password: 'pw', privileges: 'owner' };
    await sut.restoreAccess(infra, spec);
    expect(sut.created).toEqual([spec]);
  });

  it('builds the endpoint from the addresses alone, checking the database name', () => {
    expect(sut.endpoint(infra.addresses, 'shop')).toBe(
      'fake://<user>:<password>@db1:7000,db2:7001/shop',
    );
    expect(() => sut.endpoint(infra.addresses, 'Shop')).toThrow(/invalid database name/);
  });

  it('gives connection details with an empty host and port 0 when the infra has no address', () => {
    expect(sut.connectionDetails([], 'shop', { username: 'app', password: 'p w' })).toEqual({
      uri: 'fake://app:p%20w@/shop',
      host: '',
      port: 0,
      hosts: [],
      addresses: [],
      extras: {},
    });
  });

  it('manages only names found on the engine that follow the dbaas rule', () => {
    expect(sut.manageable('shop_1')).toBe(true);
    for (const name of ['Shop', '1shop', 'shop-1', '', 'shop\n'])
      expect([name, sut.manageable(name)]).toEqual([name, false]);
  });
});
