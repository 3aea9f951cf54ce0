import { InfraTarget } from '../engine-provider';
import { InfraPools, infraPoolKey } from './infra-pools';

const infra = (over: Partial<InfraTarget> = {}): InfraTarget => ({
  id: 1,
  addresses: ['a:1', 'b:2'],
  adminUser: 'root',
  adminPassword: 'admin-password',
  ...over,
});

describe('InfraPools', () => {
  it('keys a pool by id, addresses, admin user and a short hash of the password', () => {
    const key = infraPoolKey(infra());
    expect(key).toMatch(/^1\|a:1,b:2\|root\|[0-9a-f]{16}$/);
    expect(key).not.toContain('admin-password');
    expect(infraPoolKey(infra({ adminPassword: 'other' }))).not.toBe(key);
  });

  let created: string[];
  let destroyed: string[];
  let pools: InfraPools<string>;
  beforeEach(() => {
    created = [];
    destroyed = [];
    let n = 0;
    pools = new InfraPools<string>(
      (target) => {
        const pool = `pool${++n}@${target.id}`;
        created.push(pool);
        return pool;
      },
      async (pool) => void destroyed.push(pool),
    );
  });

  it('reuses the pool of an unchanged infra, one pool per infra id', () => {
    expect(pools.get(infra())).toBe('pool1@1');
    expect(pools.get(infra())).toBe('pool1@1');
    expect(pools.get(infra({ id: 2 }))).toBe('pool2@2');
    expect(created).toEqual(['pool1@1', 'pool2@2']);
    expect(destroyed).toEqual([]);
  });

  it('builds a new pool and closes the stale one when the settings change', async () => {
    pools.get(infra());
    expect(pools.get(infra({ adminUser: 'admin' }))).toBe('pool2@1');
    await Promise.resolve();
    expect(destroyed).toEqual(['pool1@1']);
    expect(pools.get(infra({ adminUser: 'admin' }))).toBe('pool2@1');
  });

  it('forgets a discarded pool, but not a newer one of the same infra', async () => {
    const first = pools.get(infra());
    pools.discard(infra(), first);
    expect(pools.get(infra())).toBe('pool2@1');
    pools.discard(infra(), first);
    expect(pools.get(infra())).toBe('pool2@1');
    await Promise.resolve();
    expect(destroyed).toEqual(['pool1@1', 'pool1@1']);
  });

  it('closes every pool, and a failing close does not stop the others', async () => {
    const failing = new InfraPools<string>(
      (target) => `p${target.id}`,
      async (pool) => {
        destroyed.push(pool);
        if (pool === 'p1') throw new Error('close failed');
      },
    );
    failing.get(infra({ id: 1 }));
    failing.get(infra({ id: 2 }));
    await failing.closeAll();
    expect(destroyed).toEqual(['p1', 'p2']);
    failing.get(infra({ id: 1 }));
    await failing.closeAll();
    expect(destroyed).toEqual(['p1', 'p2', 'p1']);
  });

  it('discards a pool of an infra it never built, and swallows failing closes', async () => {
    const closed: string[] = [];
    let n = 0;
    const failing = new InfraPools<string>(
      () => `p${++n}`,
      async (pool) => {
        closed.push(pool);
        throw new Error('close failed');
      },
    );
    expect(() => failing.discard(infra({ id: 7 }), 'stray')).not.toThrow();
    failing.get(infra());
    expect(failing.get(infra({ adminPassword: 'changed' }))).toBe('p2'); // closes p1: fails
    failing.discard(infra(), 'p1'); // stale: p2 stays
    // Let the rejected closes settle: an unhandled rejection would fail this test.
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toEqual(['stray', 'p1', 'p1']);
    expect(failing.get(infra({ adminPassword: 'changed' }))).toBe('p2');
  });
});
