import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { EngineProvider, EngineTypeName } from './engine-provider';
import { ENGINE_PROVIDERS } from './engines.constants';

/** Finds the provider of an engine type; closes every provider's pools at shutdown. */
@Injectable()
export class EngineRegistry implements OnApplicationShutdown {
  private readonly byType = new Map<string, EngineProvider>();

  constructor(@Inject(ENGINE_PROVIDERS) providers: EngineProvider[]) {
    for (const provider of providers) {
      if (this.byType.has(provider.type)) {
        throw new Error(`Two engine providers are registered for "${provider.type}"`);
      }
      this.byType.set(provider.type, provider);
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

  has(type: string): type is EngineTypeName {
    return this.byType.has(type);
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
