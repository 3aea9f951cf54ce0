import { EngineProvider, EngineProviderClass } from './engine-provider';
import { MongodbProvider } from './mongodb/mongodb.provider';
import { MysqlProvider } from './mysql/mysql.provider';
import { PostgresqlProvider } from './postgresql/postgresql.provider';
import { RedisProvider } from './redis/redis.provider';

/**
 * Every engine dbaas supports. A new engine is its folder (a provider class with a static
 * `type`) plus one line here: the registry, the engine type names the API accepts and the
 * metrics all come from this list.
 */
export const ENGINE_PROVIDER_CLASSES: readonly EngineProviderClass[] = [
  PostgresqlProvider,
  MysqlProvider,
  MongodbProvider,
  RedisProvider,
];

/** The engine type names (`engine_type.name`) dbaas has a provider for. */
export const ENGINE_TYPES: readonly string[] = ENGINE_PROVIDER_CLASSES.map(
  (provider) => provider.type,
);

/** One instance of every listed provider (what the Nest module registers). */
export function createEngineProviders(): EngineProvider[] {
  return ENGINE_PROVIDER_CLASSES.map((Provider) => new Provider());
}
