import { createHash } from 'node:crypto';
import { InfraTarget } from '../engine-provider';

/**
 * The identity of an infra's admin connection: a changed address, admin user or password
 * gives a new key, hence a new pool. The password is only present as a short hash.
 */
export function infraPoolKey(infra: InfraTarget): string {
  const secret = createHash('sha256').update(infra.adminPassword).digest('hex').slice(0, 16);
  return `${infra.id}|${infra.addresses.join(',')}|${infra.adminUser}|${secret}`;
}

/**
 * One pool (or client) per infra id. When an infra's settings change, the next call builds
 * a new pool and closes the stale one, so an edited infra never keeps old credentials alive.
 */
export class InfraPools<T> {
  private readonly pools = new Map<number, { key: string; pool: T }>();

  constructor(
    private readonly create: (infra: InfraTarget) => T,
    private readonly destroy: (pool: T) => Promise<void>,
  ) {}

  get(infra: InfraTarget): T {
    const key = infraPoolKey(infra);
    const current = this.pools.get(infra.id);
    if (current?.key === key) return current.pool;
    if (current) void this.destroy(current.pool).catch(() => undefined);
    const pool = this.create(infra);
    this.pools.set(infra.id, { key, pool });
    return pool;
  }

  /** Forgets a broken pool so the next call builds a fresh one. */
  discard(infra: InfraTarget, pool: T): void {
    const current = this.pools.get(infra.id);
    if (current?.pool === pool) this.pools.delete(infra.id);
    void this.destroy(pool).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map(({ pool }) => this.destroy(pool)));
  }
}
