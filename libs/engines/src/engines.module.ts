import { CatalogModule } from '@dbaas/catalog';
import { Module } from '@nestjs/common';
import { EngineMetrics } from './engine-metrics';
import { EngineProvider } from './engine-provider';
import { EngineRegistry } from './engine-registry';
import { ENGINE_PROVIDERS } from './engines.constants';
import { InfraAccess } from './infra-access.service';
import { InfraProbe } from './infra-probe.service';
import { MongodbProvider } from './mongodb/mongodb.provider';
import { MysqlProvider } from './mysql/mysql.provider';
import { PostgresqlProvider } from './postgresql/postgresql.provider';
import { RedisProvider } from './redis/redis.provider';

export { EngineMetrics, failureReason } from './engine-metrics';

/** Every engine dbaas supports. A new engine is its folder plus one line here. */
export function createEngineProviders(): EngineProvider[] {
  return [
    new PostgresqlProvider(),
    new MysqlProvider(),
    new MongodbProvider(),
    new RedisProvider(),
  ];
}

/**
 * The engine strategies behind one registry. Providers are plain classes built by a
 * factory (they hold pools, not injected dependencies); tests override ENGINE_PROVIDERS
 * with fakes. The registry closes every pool on application shutdown (the API's SIGTERM
 * handler closes the app), and times every engine operation through EngineMetrics.
 */
@Module({
  imports: [CatalogModule],
  providers: [
    { provide: ENGINE_PROVIDERS, useFactory: createEngineProviders },
    EngineMetrics,
    EngineRegistry,
    InfraAccess,
    InfraProbe,
  ],
  exports: [EngineRegistry, InfraAccess, InfraProbe, EngineMetrics],
})
export class EnginesModule {}
