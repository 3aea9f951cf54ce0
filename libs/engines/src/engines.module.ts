import { CatalogModule } from '@dbaas/catalog';
import { Module } from '@nestjs/common';
import { createEngineProviders } from './engine-list';
import { EngineLimitRulesRegistration } from './engine-limit-rules.registration';
import { EngineMetrics } from './engine-metrics';
import { EngineRegistry } from './engine-registry';
import { ENGINE_PROVIDERS } from './engines.constants';
import { InfraAccess } from './infra-access.service';
import { InfraProbe } from './infra-probe.service';

export { EngineMetrics, failureReason } from './engine-metrics';
export { createEngineProviders } from './engine-list';

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
    EngineLimitRulesRegistration,
  ],
  exports: [EngineRegistry, InfraAccess, InfraProbe, EngineMetrics],
})
export class EnginesModule {}
