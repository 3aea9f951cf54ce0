import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { ConflictError, IllegalTransitionError, QuotaExceededError } from '@dbaas/core';
import { DatabaseEntity } from '@dbaas/persistence';
import { DataSource } from 'typeorm';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { DatabaseRepository, NewDatabase } from './database.repository';

const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [] };
const dev: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };
/** Plan `small` in environment `dev` on infra `db1` of seedCatalog, team 1. */
const orders: NewDatabase = {
  name: 'orders',
  description: '',
  planId: 1,
  environmentId: 1,
  infraId: 1,
  projectId: null,
  teamId: 1,
};

/**
 * Medium test: the `database` table's repository on a real PostgreSQL store (the app's
 * migrations): the fused detail and list reads, the slot claim under the infra's lock,
 * and the guarded status transitions.
 */
describe('DatabaseRepository on a real PostgreSQL store', () => {
  let store: TestStore;
  let sut: DatabaseRepository;

  const repository = (source: DataSource) =>
    new DatabaseRepository(source.getRepository(DatabaseEntity), source, new AccessPolicy());

  beforeAll(async () => {
    store = await startStore();
    sut = repository(store.store);
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
  });

  const status = async (id: number) =>
    (
      (await store.store.query('SELECT status FROM database WHERE id = $1', [id])) as {
        status: string;
      }[]
    )[0]?.status;

  it('find: the row with its plan limit, infra, engine and credentials, in one read model', async () => {
    const row = (await sut.claimSlot(orders))!;
    await store.store.query(
      `INSERT INTO credential ("user", database_id, infra_id, privileges, status, password_encrypted)
       VALUES ('u_orders', $1, 1, 'owner', 'ready', 'x'), ('app', $1, 1, 'read-only', 'ready', 'y')`,
      [row.id],
    );

    const found = await sut.find(row.id);

    expect(found).toEqual({
      ...orders,
      id: row.id,
      status: 'creating',
      quarantineDt: null,
      isProtected: false,
      tags: [],
      createdAt: expect.any(Date),
      overSizeLimit: false,
      moveInfraId: null,
      movePlanId: null,
      sizeLimitInBytes: 1048576,
      maxConnections: 0,
      addresses: ['db1:3306'],
      engineId: 1,
      engineType: 'mysql',
      credentials: [
        { id: 1, user: 'u_orders' },
        { id: 2, user: 'app' },
      ],
    });
    expect(found).not.toBeInstanceOf(DatabaseEntity);
    expect(await sut.find(999)).toBeNull();
  });

  it('page: the rows the viewer may see and their total; a write here drops the cached total', async () => {
    const first = (await sut.claimSlot(orders))!;
    await sut.transition(first.id, 'creating', 'ready');
    await store.store.query(`UPDATE database SET team_id = 2 WHERE id = $1`, [first.id]);
    const second = (await sut.claimSlot({ ...orders, name: 'stock' }))!;
    await sut.transition(second.id, 'creating', 'ready');

    expect(await sut.page(dba, {}, 0, 10)).toMatchObject({
      count: 2,
      items: [{ name: 'orders' }, { name: 'stock', credentials: [] }],
    });
    expect(await sut.page(dev, {}, 0, 10)).toMatchObject({ count: 1, items: [{ name: 'stock' }] });

    // Another process's write is seen once the cache expires; this repository's at once.
    await repository(store.store).delete(second.id);
    expect((await sut.page(dba, {}, 0, 10)).count).toBe(2);
    await sut.delete(first.id);
    expect(await sut.page(dba, {}, 0, 10)).toEqual({ count: 0, items: [] });
  });

  it('claimSlot: two creates racing for the last slot of an infra, from two processes: one gets it', async () => {
    await store.store.query('UPDATE infra SET capacity = 1 WHERE id = 1');
    const other = repository(await store.open());

    const [one, two] = await Promise.all([
      sut.claimSlot(orders),
      other.claimSlot({ ...orders, name: 'stock' }),
    ]);

    expect([one, two].filter((row) => row !== null)).toHaveLength(1);
    expect(await sut.nextPlacement(1, 1)).toBe(2);
  });

  it('a move: holds a slot on the target, the switch swaps the two ends, its end clears them', async () => {
    await store.store.query(`
      INSERT INTO plan (name, engine_id) VALUES ('large', 1);
      INSERT INTO infra_plan (infra_id, plan_id) VALUES (2, 2);
      UPDATE infra SET capacity = 1 WHERE id = 2;
    `);
    const row = (await sut.claimSlot(orders))!;
    await sut.transition(row.id, 'creating', 'ready');
    const ends = async () => {
      const found = (await sut.findRow(row.id))!;
      return [found.status, found.infraId, found.planId, found.moveInfraId, found.movePlanId];
    };

    expect(await sut.startMove(row.id, 2, 2)).toBe(true);
    expect(await ends()).toEqual(['moving', 1, 1, 2, 2]);
    // The target's only slot is held by the move: a create finds no room there.
    expect(await sut.claimSlot({ ...orders, name: 'stock', infraId: 2 })).toBeNull();
    await expect(sut.startMove(row.id, 2, 2)).rejects.toBeInstanceOf(ConflictError);

    await sut.switchMove(row.id);
    expect(await ends()).toEqual(['moving', 2, 2, 1, 1]);
    await sut.endMove(row.id);
    expect(await ends()).toEqual(['ready', 2, 2, null, null]);
    await expect(sut.endMove(row.id)).rejects.toBeInstanceOf(ConflictError);
  });

  it('startMove: false when the target is full, and nothing changes', async () => {
    await store.store.query('UPDATE infra SET capacity = 1 WHERE id = 2');
    const row = (await sut.claimSlot(orders))!;
    await sut.transition(row.id, 'creating', 'ready');
    expect(await sut.claimSlot({ ...orders, name: 'stock', infraId: 2 })).not.toBeNull();

    expect(await sut.startMove(row.id, 2, 1)).toBe(false);
    expect(await status(row.id)).toBe('ready');
  });

  it('claimSlot: a name taken meanwhile in the environment is a 409', async () => {
    await sut.claimSlot(orders);
    await expect(sut.claimSlot({ ...orders, infraId: 2 })).rejects.toBeInstanceOf(ConflictError);
  });

  it('transition: moves along the table, with the quarantine date when given', async () => {
    const { id } = (await sut.claimSlot(orders))!;
    await sut.transition(id, 'creating', 'ready');
    await sut.transition(id, 'ready', 'quarantining');
    await sut.transition(id, 'quarantining', 'quarantined', { quarantineDt: '2026-11-27' });

    expect(await sut.findRow(id)).toMatchObject({
      status: 'quarantined',
      quarantineDt: '2026-11-27',
    });
    expect(await sut.quarantinedSince('2026-11-27')).toHaveLength(1);
    expect(await sut.quarantinedSince('2026-11-26')).toHaveLength(0);
  });

  it('quarantinedSince leaves protected databases out (the purge keeps them)', async () => {
    const { id } = (await sut.claimSlot(orders))!;
    await sut.transition(id, 'creating', 'ready');
    await sut.transition(id, 'ready', 'quarantining');
    await sut.transition(id, 'quarantining', 'quarantined', { quarantineDt: '2026-11-27' });
    await sut.updateDetails(id, { isProtected: true });

    expect(await sut.quarantinedSince('2026-11-27')).toEqual([]);
    await sut.updateDetails(id, { isProtected: false });
    expect(await sut.quarantinedSince('2026-11-27')).toHaveLength(1);
  });

  it('transition: refuses a move the table does not allow, and writes nothing', async () => {
    const { id } = (await sut.claimSlot(orders))!;

    await expect(sut.transition(id, 'creating', 'quarantined')).rejects.toBeInstanceOf(
      IllegalTransitionError,
    );
    expect(await status(id)).toBe('creating');
  });

  it('transition: refuses a move from a state the row is no longer in (a stale read)', async () => {
    const { id } = (await sut.claimSlot(orders))!;
    await sut.transition(id, 'creating', 'ready');

    await expect(sut.transition(id, 'creating', 'ready')).rejects.toThrow(
      `database ${id} is no longer creating.`,
    );
    expect(await status(id)).toBe('ready');
  });

  it('claimSlot: a team at its database_limit gets a 409 quota-exceeded, and nothing is written', async () => {
    await store.store.query('UPDATE team SET database_limit = 1 WHERE id = 1');
    await sut.claimSlot(orders);

    await expect(sut.claimSlot({ ...orders, name: 'stock' })).rejects.toBeInstanceOf(
      QuotaExceededError,
    );
    // Another team is not affected; 0 means no limit.
    expect(await sut.claimSlot({ ...orders, name: 'stock', teamId: 2 })).not.toBeNull();
    await store.store.query('UPDATE team SET database_limit = 0 WHERE id = 1');
    expect(await sut.claimSlot({ ...orders, name: 'stock2' })).not.toBeNull();
    expect(await store.store.query('SELECT name FROM database ORDER BY id')).toEqual([
      { name: 'orders' },
      { name: 'stock' },
      { name: 'stock2' },
    ]);
  });

  it('claimSlot: creates of one team racing on two infras, from two processes, never pass its limit', async () => {
    await store.store.query('UPDATE team SET database_limit = 3 WHERE id = 1');
    const other = repository(await store.open());
    const names = Array.from({ length: 10 }, (_, i) => `race_${i}`);

    const outcomes = await Promise.allSettled(
      names.map((name, i) =>
        (i % 2 ? other : sut).claimSlot({ ...orders, name, infraId: 1 + (i % 2) }),
      ),
    );

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    for (const refused of outcomes.filter((o) => o.status === 'rejected'))
      expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(QuotaExceededError);
    expect(await store.store.query('SELECT count(*)::int AS n FROM database')).toEqual([{ n: 3 }]);
  });

  it('page: ?tag= lists the databases carrying every tag asked for', async () => {
    await sut.claimSlot({ ...orders, tags: ['shop', 'env:prod'] });
    await sut.claimSlot({ ...orders, name: 'stock', tags: ['shop'] });
    const bare = (await sut.claimSlot({ ...orders, name: 'logs' }))!;

    const names = async (tags: string[]) =>
      (await sut.page(dba, { tags }, 0, 10)).items.map((item) => item.name);
    expect(await names(['shop'])).toEqual(['orders', 'stock']);
    expect(await names(['shop', 'env:prod'])).toEqual(['orders']);
    expect(await names(['env:prod', 'nope'])).toEqual([]);
    expect(await names([])).toEqual(['orders', 'stock', 'logs']);
    expect((await sut.page(dba, { tags: ['shop'] }, 0, 10)).count).toBe(2);

    await sut.updateDetails(bare.id, { tags: ['shop', 'env:prod'], isProtected: true });
    expect(await names(['env:prod'])).toEqual(['orders', 'logs']);
    expect(await sut.find(bare.id)).toMatchObject({
      isProtected: true,
      tags: ['shop', 'env:prod'],
    });
  });

  it('the store refuses more than 20 tags on a row', async () => {
    const { id } = (await sut.claimSlot(orders))!;
    const tags = Array.from({ length: 21 }, (_, i) => `t${i}`);
    // The CHECK constraint's violation (23514), not any failure.
    await expect(sut.updateDetails(id, { tags })).rejects.toMatchObject({
      driverError: { code: '23514' },
    });
    expect(await sut.find(id)).toMatchObject({ tags: [] });
  });

  it('underSizeLimits: ready databases of a plan with a limit, or marked over one', async () => {
    const { id } = (await sut.claimSlot(orders))!;
    expect(await sut.underSizeLimits()).toEqual([]); // still creating
    await sut.transition(id, 'creating', 'ready');
    expect(await sut.underSizeLimits()).toEqual([
      expect.objectContaining({ id, sizeLimitInBytes: 1048576, overSizeLimit: false }),
    ]);

    await sut.setOverSizeLimit(id, true);
    await store.store.query('UPDATE plan SET size_limit_in_bytes = 0');
    expect(await sut.underSizeLimits(id)).toEqual([
      expect.objectContaining({ id, sizeLimitInBytes: 0, overSizeLimit: true }),
    ]);
    expect(await sut.find(id)).toMatchObject({ overSizeLimit: true });

    await sut.setOverSizeLimit(id, false);
    expect(await sut.underSizeLimits()).toEqual([]);
    expect(await sut.underSizeLimits(id + 1)).toEqual([]);
  });
});
