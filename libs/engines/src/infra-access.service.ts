import { InfraRepository } from '@dbaas/catalog';
import { SecretBox } from '@dbaas/core';
import { InfraEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { EngineProvider, InfraTarget } from './engine-provider';
import { EngineRegistry } from './engine-registry';

/** An infra ready to talk to: its provider and its decrypted admin login. */
export interface ConnectedInfra {
  infra: InfraEntity;
  provider: EngineProvider;
  target: InfraTarget;
}

/**
 * How long a looked-up infra is reused. Short, because another API process may change an
 * infra; changes made through this process are seen at once (see `forget`).
 */
const CONNECT_CACHE_MS = 5_000;

/**
 * Turns an infra row into something an engine provider can act on.
 *
 * The lookup (a metadata query and a decryption) is kept for a few seconds per infra, so a
 * list measuring 100 sizes or a create + credential on one infra asks the store once. Every
 * insert, update or delete of an infra through InfraRepository (InfrasService's writes)
 * empties the cache, so an edited infra is never used with its old address or login here.
 */
@Injectable()
export class InfraAccess {
  private readonly cache = new Map<number, { at: number; connected: Promise<ConnectedInfra> }>();

  constructor(
    private readonly infras: InfraRepository,
    private readonly secrets: SecretBox,
    private readonly registry: EngineRegistry,
  ) {
    infras.onWrite(() => this.forget());
  }

  connect(infraId: number): Promise<ConnectedInfra> {
    const now = Date.now();
    const cached = this.cache.get(infraId);
    if (cached && now - cached.at < CONNECT_CACHE_MS) return cached.connected;
    const connected = this.lookUp(infraId);
    const entry = { at: now, connected };
    this.cache.set(infraId, entry);
    // A failed lookup (no such infra, store down) is never kept.
    connected.catch(() => {
      if (this.cache.get(infraId) === entry) this.cache.delete(infraId);
    });
    if (this.cache.size > 1000) this.evictExpired(now);
    return connected;
  }

  /** Drops the cached lookup of one infra, or of all of them. */
  forget(infraId?: number): void {
    if (infraId === undefined) this.cache.clear();
    else this.cache.delete(infraId);
  }

  /** The provider for an engine type name, without an infra (name rules, limits). */
  providerFor(engineType: string): EngineProvider {
    return this.registry.get(engineType);
  }

  private async lookUp(infraId: number): Promise<ConnectedInfra> {
    const infra = await this.infras.findForEngineAccess(infraId);
    return {
      infra,
      provider: this.registry.get(infra.engine.engineType.name),
      target: {
        id: infra.id,
        addresses: infra.addresses,
        adminUser: infra.adminUser,
        adminPassword: this.secrets.decrypt(infra.adminPasswordEncrypted),
      },
    };
  }

  private evictExpired(now: number): void {
    for (const [id, entry] of this.cache) {
      if (now - entry.at >= CONNECT_CACHE_MS) this.cache.delete(id);
    }
  }
}
