import { createEngineProviders, ENGINE_PROVIDER_CLASSES, ENGINE_TYPES } from './engine-list';
import { EngineProvider } from './engine-provider';
import { MongodbProvider } from './mongodb/mongodb.provider';
import { MysqlProvider } from './mysql/mysql.provider';
import { PostgresqlProvider } from './postgresql/postgresql.provider';
import { RedisProvider } from './redis/redis.provider';

/**
 * What each provider knows without a server: catalog facts, reserved logins, endpoints and
 * connection details. (The engine operations are checked on real servers by the contract
 * suite in test/engines.)
 */
describe('engine facts', () => {
  const login = { username: 'u_shop', password: 'p@ss/w:rd' };
  const encoded = 'p%40ss%2Fw%3Ard';

  it('the engine types are those of the provider list, each once', () => {
    expect(ENGINE_TYPES).toEqual(['postgresql', 'mysql', 'mongodb', 'redis']);
    expect(createEngineProviders().map((p) => p.type)).toEqual(ENGINE_TYPES);
    expect(ENGINE_PROVIDER_CLASSES.map((c) => new c().type)).toEqual(ENGINE_TYPES);
  });

  // The providers are built inside each test, not in the tables: a table is built when the
  // file loads, before a mutation run switches a mutant on (see docs/mutation-survivors.md).
  type ProviderClass = new () => EngineProvider;

  it.each<[string, ProviderClass, string[], number]>([
    ['PostgreSQL', PostgresqlProvider, ['postgresql', 'relational', 'sql'], 5432],
    ['MySQL/MariaDB', MysqlProvider, ['mysql', 'mariadb', 'relational', 'sql'], 3306],
    ['MongoDB', MongodbProvider, ['mongodb', 'document', 'nosql'], 27017],
    ['Redis', RedisProvider, ['redis', 'key-value', 'caching'], 6379],
  ])('%s: catalog name, tags and default port', (name, Provider, tags, port) => {
    const provider = new Provider();
    expect(provider.displayName).toBe(name);
    expect(provider.catalogTags).toEqual(tags);
    expect(provider.defaultPort).toBe(port);
  });

  it.each<[string, ProviderClass, string[], string[]]>([
    ['PostgreSQL', PostgresqlProvider, ['postgres', 'template0', 'template1'], ['pg_']],
    [
      'MySQL/MariaDB',
      MysqlProvider,
      ['mysql', 'information_schema', 'performance_schema', 'sys'],
      [],
    ],
    ['MongoDB', MongodbProvider, ['admin', 'config', 'local'], []],
    ['Redis', RedisProvider, [], []],
  ])('%s: the database names the engine keeps for itself', (_name, Provider, names, prefixes) => {
    const provider = new Provider();
    expect(provider.reservedNames).toEqual(names);
    expect(provider.reservedNamePrefixes).toEqual(prefixes);
  });

  describe('reserved logins', () => {
    const reserves = (provider: EngineProvider, name: string) =>
      provider.reservedUserNames.includes(name) ||
      provider.reservedUserPrefixes.some((prefix) => name.startsWith(prefix));

    it.each<[string, ProviderClass, string[], string[]]>([
      [
        'PostgreSQL',
        PostgresqlProvider,
        ['postgres', 'public', 'replicator', 'replication', 'pg_monitor'],
        ['root', 'default', 'mysql_x'],
      ],
      [
        'MySQL/MariaDB',
        MysqlProvider,
        ['root', 'mysql', 'mariadb', 'replicator', 'replication', 'mysql_x', 'mariadb_sys'],
        ['postgres', 'default', 'pg_x'],
      ],
      ['MongoDB', MongodbProvider, ['admin', 'root', 'system_x'], ['postgres', 'default']],
      ['Redis', RedisProvider, ['default'], ['root', 'postgres', 'admin']],
    ])('%s reserves its own accounts, not the other engines', (_name, Provider, taken, free) => {
      const provider = new Provider();
      for (const name of taken) expect([name, reserves(provider, name)]).toEqual([name, true]);
      for (const name of free) expect([name, reserves(provider, name)]).toEqual([name, false]);
    });
  });

  describe('endpoint and connection details', () => {
    it('PostgreSQL: every address (libpq multi-host), a JDBC URL on the first', () => {
      const sut = new PostgresqlProvider();
      const addresses = ['pg1:5433', 'pg2:5432'];
      expect(sut.endpoint(addresses, 'shop')).toBe(
        'postgresql://<user>:<password>@pg1:5433,pg2:5432/shop',
      );
      expect(sut.connectionDetails(addresses, 'shop', login)).toEqual({
        uri: `postgresql://u_shop:${encoded}@pg1:5433,pg2:5432/shop`,
        host: 'pg1',
        port: 5433,
        hosts: ['pg1:5433', 'pg2:5432'],
        addresses: [
          { host: 'pg1', port: 5433 },
          { host: 'pg2', port: 5432 },
        ],
        jdbcUrl: `jdbc:postgresql://pg1:5433/shop?user=u_shop&password=${encoded}`,
        extras: {},
      });
    });

    it('MySQL: the first address only, a JDBC URL, an IPv6 host bracketed in it', () => {
      const sut = new MysqlProvider();
      const addresses = ['[fd00::1]:3307', 'my2:3306'];
      expect(sut.endpoint(addresses, 'shop')).toBe('mysql://<user>:<password>@[fd00::1]:3307/shop');
      expect(sut.connectionDetails(addresses, 'shop', login)).toEqual({
        uri: `mysql://u_shop:${encoded}@[fd00::1]:3307/shop`,
        host: 'fd00::1',
        port: 3307,
        hosts: ['[fd00::1]:3307'],
        addresses: [{ host: 'fd00::1', port: 3307 }],
        jdbcUrl: `jdbc:mysql://[fd00::1]:3307/shop?user=u_shop&password=${encoded}`,
        extras: {},
      });
    });

    it('MongoDB: every replica set member, the database as path, no JDBC URL', () => {
      const sut = new MongodbProvider();
      const details = sut.connectionDetails(['m1:27017', 'm2:27018'], 'shop', login);
      expect(details).toEqual({
        uri: `mongodb://u_shop:${encoded}@m1:27017,m2:27018/shop`,
        host: 'm1',
        port: 27017,
        hosts: ['m1:27017', 'm2:27018'],
        addresses: [
          { host: 'm1', port: 27017 },
          { host: 'm2', port: 27018 },
        ],
        extras: {},
      });
      expect(details).not.toHaveProperty('jdbcUrl');
    });

    it('Redis: logical database 0 as path, the key prefix as an extra', () => {
      const sut = new RedisProvider();
      expect(sut.endpoint(['r1:6380', 'r2:6379'], 'shop')).toBe(
        'redis://<user>:<password>@r1:6380/0',
      );
      expect(sut.connectionDetails(['r1:6380', 'r2:6379'], 'shop', login)).toEqual({
        uri: `redis://u_shop:${encoded}@r1:6380/0`,
        host: 'r1',
        port: 6380,
        hosts: ['r1:6380'],
        addresses: [{ host: 'r1', port: 6380 }],
        extras: { key_prefix: 'shop:' },
      });
    });

    it('an address without a port gets the engine default', () => {
      expect(new RedisProvider().connectionDetails(['cache'], 'shop', login).port).toBe(6379);
      expect(new MongodbProvider().connectionDetails(['mongo'], 'shop', login).port).toBe(27017);
    });

    it('refuses an invalid database name', () => {
      for (const provider of createEngineProviders()) {
        expect(() => provider.connectionDetails(['h:1'], 'Bad-Name', login)).toThrow(
          /invalid database name/,
        );
      }
    });
  });
});
