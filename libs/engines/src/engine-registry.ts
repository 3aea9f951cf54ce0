import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { EngineMetrics } from './engine-metrics';
import { EngineProvider, EngineTypeName } from './engine-provider';
import { ENGINE_PROVIDERS } from './engines.constants';

/**
 * Finds the provider of an engine type; closes every provider's pools at shutdown. With
 * EngineMetrics (the Nest module provides it), the providers it hands out time and count
 * every engine operation for `/metrics`; they behave exactly like the providers otherwise.
 */
@Injectable()
export class EngineRegistry implements OnApplicationShutdown {
  private readonly byType = new Map<string, EngineProvider>();

  constructor(
    @Inject(ENGINE_PROVIDERS) providers: EngineProvider[],
    @Optional() metrics?: EngineMetrics,
  ) {
    for (const provider of providers) {
      if (!provider.type) {
        throw new Error(`An engine provider has no type (${provider.constructor.name})`);
      }
      if (this.byType.has(provider.type)) {
        throw new Error(`Two engine providers are registered for "${provider.type}"`);
      }
      this.byType.set(provider.type, metrics ? metrics.instrument(provider) : provider);
    }
  }

  /** Throws for a type without a provider: that is a programming or catalog error, not a user error. */
  get(type: EngineTypeName): EngineProvider {
    const provider = this.byType.get(type);
    if (!provider) {
      throw new Error(
        `No engine provider for "${type}" (known: ${[...this.byType.keys()].join(', ')})`,
      );
    }
    return provider;
  }

  /** The provider of a type, or undefined (a catalog engine type without a provider). */
  find(type: EngineTypeName): EngineProvider | undefined {
    return this.byType.get(type);
  }

  /** The engine types of the registered providers, in registration order. */
  types(): EngineTypeName[] {
    return [...this.byType.keys()];
  }

  all(): EngineProvider[] {
    return [...this.byType.values()];
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled(this.all().map((provider) => provider.close()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }
}
