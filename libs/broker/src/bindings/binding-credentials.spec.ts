import {
  EngineProvider,
  MongodbProvider,
  MysqlProvider,
  PostgresqlProvider,
  RedisProvider,
} from '@dbaas/engines';
import { bindingCredentials } from './binding-credentials';

/** A binding of `username` on `database`, from the engine provider's connection details. */
function bind(
  provider: EngineProvider,
  addresses: string[],
  database: string,
  username: string,
  password: string,
) {
  const login = { username, password };
  return bindingCredentials(
    provider.connectionDetails(addresses, database, login),
    database,
    login,
  );
}

describe('bindingCredentials', () => {
  it('fills a PostgreSQL endpoint and adds a JDBC URL', () => {
    const sut = bind(new PostgresqlProvider(), ['db.local:5433'], 'orders', 'b_1', 'p@ss/w');
    expect(sut.credentials).toEqual({
      uri: 'postgresql://b_1:p%40ss%2Fw@db.local:5433/orders',
      username: 'b_1',
      password: 'p@ss/w',
      host: 'db.local',
      port: 5433,
      database: 'orders',
      hosts: ['db.local:5433'],
      jdbcUrl: 'jdbc:postgresql://db.local:5433/orders?user=b_1&password=p%40ss%2Fw',
    });
    expect(sut.endpoints).toEqual([{ host: 'db.local', ports: ['5433'], protocol: 'tcp' }]);
  });

  it('gives MySQL a jdbc:mysql URL', () => {
    const sut = bind(new MysqlProvider(), ['10.0.0.1:3306'], 'shop', 'u', 'pw');
    expect(sut.credentials.jdbcUrl).toBe('jdbc:mysql://10.0.0.1:3306/shop?user=u&password=pw');
  });

  it('uses the key prefix as the Redis database and has no JDBC URL', () => {
    const sut = bind(new RedisProvider(), ['127.0.0.1:6380'], 'cache', 'u', 'pw');
    expect(sut.credentials).toMatchObject({
      uri: 'redis://u:pw@127.0.0.1:6380/0',
      database: 'cache',
      key_prefix: 'cache:',
      port: 6380,
    });
    expect(sut.credentials.jdbcUrl).toBeUndefined();
  });

  it('lists every member of a MongoDB replica set', () => {
    const sut = bind(new MongodbProvider(), ['h1:27017', 'h2:27018'], 'app', 'u', 'pw');
    expect(sut.credentials).toMatchObject({
      host: 'h1',
      port: 27017,
      hosts: ['h1:27017', 'h2:27018'],
    });
    expect(sut.credentials).not.toHaveProperty('jdbcUrl');
    expect(sut.endpoints.map((e) => e.host)).toEqual(['h1', 'h2']);
  });
});
