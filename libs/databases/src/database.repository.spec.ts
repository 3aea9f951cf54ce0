import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { ConflictError, IllegalTransitionError, QuotaExceededError } from '@dbaas/core';
import { DatabaseEntity } from '@dbaas/persistence';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { DatabaseFilter, DatabaseRepository, NewDatabase } from './database.repository';

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

  // Explicit timeouts: starting or stopping a store can take longer than the 4 s of
  // jest.stryker.config.js on a loaded machine (Stryker's initial run then fails).
  beforeAll(async () => {
    store = await startStore();
    sut = repository(store.store);
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
  }, 60_000);

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

  it('inStates, findRows and all: the rows asked for, oldest first', async () => {
    const first = (await sut.claimSlot(orders))!;
    const second = (await sut.claimSlot({ ...orders, name: 'stock' }))!;
    await sut.transition(second.id, 'creating', 'ready');

    expect((await sut.inStates(['creating'])).map((row) => row.name)).toEqual(['orders']);
    expect((await sut.inStates(['creating', 'ready'])).map((row) => row.name)).toEqual([
      'orders',
      'stock',
    ]);
    expect(await sut.findRows([])).toEqual([]);
    expect((await sut.findRows([second.id])).map((row) => row.name)).toEqual(['stock']);
    expect((await sut.findRows([second.id, first.id])).map((row) => row.id)).toEqual([
      first.id,
      second.id,
    ]);
    expect((await sut.all()).map((row) => row.name)).toEqual(['orders', 'stock']);
  });

  it('claimSlot answers the row as written: unprotected and untagged unless given, not over its limit', async () => {
    expect(await sut.claimSlot(orders)).toMatchObject({
      status: 'creating',
      isProtected: false,
      tags: [],
      overSizeLimit: false,
    });
    expect(
      await sut.claimSlot({ ...orders, name: 'stock', isProtected: true, tags: ['shop'] }),
    ).toMatchObject({ isProtected: true, tags: ['shop'] });
  });

  it('claimSlot: the 409s name what is wrong (a taken name; the quota, in the singular or plural)', async () => {
    await sut.claimSlot(orders);
    await expect(sut.claimSlot({ ...orders, infraId: 2 })).rejects.toThrow(
      'A database with that name already exists.',
    );

    await store.store.query('UPDATE team SET database_limit = 1 WHERE id = 1');
    await expect(sut.claimSlot({ ...orders, name: 'stock' })).rejects.toThrow(
      'The team has reached its limit of 1 database: delete one (quarantined ones count until they are removed) or ask a dba to raise it.',
    );
    await store.store.query('UPDATE team SET database_limit = 0 WHERE id = 1');
    await sut.claimSlot({ ...orders, name: 'stock' });
    await store.store.query('UPDATE team SET database_limit = 2 WHERE id = 1');
    await expect(sut.claimSlot({ ...orders, name: 'logs' })).rejects.toThrow(
      'The team has reached its limit of 2 databases: delete one',
    );
  });

  it('planChangeChecks: the infra a move would go to, or null when none has room', async () => {
    const database = { infraId: 1, environmentId: 1 };
    expect(await sut.planChangeChecks(1, database)).toMatchObject({
      planId: 1,
      servedHere: true,
      infraId: expect.any(Number),
    });
    expect((await sut.planChangeChecks(1, database)).infraId).toBeGreaterThan(0);

    await store.store.query('UPDATE infra SET capacity = 0');
    expect(await sut.planChangeChecks(1, database)).toMatchObject({ infraId: null });
  });

  it("reads the plan's limits: size and connections, in the detail and the create's checks", async () => {
    await store.store.query('UPDATE plan SET max_connections = 3');
    const { id } = (await sut.claimSlot(orders))!;

    expect(await sut.find(id)).toMatchObject({ sizeLimitInBytes: 1048576, maxConnections: 3 });
    expect(await sut.createChecks(1, 1, 'stock')).toMatchObject({
      planId: 1,
      sizeLimitInBytes: 1048576,
      maxConnections: 3,
    });
  });

  it('changePlan and switchMove: a 409 when the row is no longer ready or moving', async () => {
    const { id } = (await sut.claimSlot(orders))!;

    await expect(sut.changePlan(id, 1)).rejects.toThrow(
      new ConflictError(`database ${id} is no longer ready.`),
    );
    await expect(sut.switchMove(id)).rejects.toThrow(
      new ConflictError(`database ${id} is no longer moving.`),
    );
    await expect(sut.startMove(id, 2, 1)).rejects.toThrow(`database ${id} is no longer ready.`);
    await sut.transition(id, 'creating', 'ready');
    await expect(sut.endMove(id)).rejects.toThrow(`database ${id} is no longer moving.`);
  });

  it('transition: a move without a date keeps the quarantine date', async () => {
    const { id } = (await sut.claimSlot(orders))!;
    await sut.transition(id, 'creating', 'ready');
    await sut.transition(id, 'ready', 'quarantining');
    await sut.transition(id, 'quarantining', 'quarantined', { quarantineDt: '2026-11-27' });

    await sut.transition(id, 'quarantined', 'deleting');

    expect(await sut.findRow(id)).toMatchObject({ status: 'deleting', quarantineDt: '2026-11-27' });
  });

  it('updateDetails with nothing to change writes nothing (not even updated_at)', async () => {
    const { id } = (await sut.claimSlot(orders))!;
    const updatedAt = async () =>
      ((await store.store.query('SELECT updated_at FROM database')) as { updated_at: Date }[])[0]
        .updated_at;
    const before = await updatedAt();

    await sut.updateDetails(id, {});

    expect(await updatedAt()).toEqual(before);
  });

  it('underSizeLimits(id): that database only', async () => {
    const first = (await sut.claimSlot(orders))!;
    const second = (await sut.claimSlot({ ...orders, name: 'stock' }))!;
    await sut.transition(first.id, 'creating', 'ready');
    await sut.transition(second.id, 'creating', 'ready');

    expect((await sut.underSizeLimits(second.id)).map((row) => row.id)).toEqual([second.id]);
  });

  it('page: oldest first even when the table stores them otherwise, with their credentials', async () => {
    const first = (await sut.claimSlot(orders))!;
    await sut.claimSlot({ ...orders, name: 'stock' });
    // An updated row is written anew at the end of the table: a scan finds it last.
    await store.store.query(`UPDATE database SET description = 'moved' WHERE id = $1`, [first.id]);
    await store.store.query(
      `INSERT INTO credential ("user", database_id, infra_id, privileges, status, password_encrypted)
       VALUES ('u_orders', $1, 1, 'owner', 'ready', 'x')`,
      [first.id],
    );

    const { items } = await sut.page(dba, {}, 0, 10);

    expect(items.map((item) => item.name)).toEqual(['orders', 'stock']);
    expect(items[0].credentials).toEqual([{ id: 1, user: 'u_orders' }]);
  });

  it('page: each filter narrows the page and its total, a regular user sees no quarantine filter', async () => {
    await store.store.query(`
      INSERT INTO engine_type (name) VALUES ('postgresql');
      INSERT INTO engine (engine_type_id, version) VALUES (2, '15');
      INSERT INTO plan (name, engine_id) VALUES ('pg', 2);
      INSERT INTO plan_environment (plan_id, environment_id) VALUES (2, 1);
      INSERT INTO infra (name, engine_id, environment_id, addresses, admin_user, admin_password_encrypted, capacity)
        VALUES ('pg1', 2, 1, '["pg1:5432"]', 'root', 'x', 10);
      INSERT INTO infra_plan (infra_id, plan_id) VALUES (3, 2);
      INSERT INTO environment (name) VALUES ('prod');
    `);
    await sut.claimSlot({ ...orders, projectId: 1 });
    await sut.claimSlot({ ...orders, name: 'stock', planId: 2, infraId: 3 });
    await sut.claimSlot({ ...orders, name: 'logs', teamId: 2 });
    await sut.claimSlot({ ...orders, name: 'orders', environmentId: 2, tags: ['eu'] });
    await store.store.query("UPDATE database SET status = 'quarantined' WHERE name = 'logs'");

    const filtered = repository(store.store);
    const page = async (viewer: AuthenticatedUser, filter: DatabaseFilter) => {
      const { items, count } = await filtered.page(viewer, filter, 0, 10);
      return `${items.map((item) => `${item.name}@${item.environmentId}`).join(' ')} (${count})`;
    };
    // One after the other, within the totals' cache period: each filter has its own total.
    expect(await page(dba, {})).toBe('orders@1 stock@1 logs@1 orders@2 (4)');
    expect(await page(dba, { name: 'Orders' })).toBe('orders@1 orders@2 (2)');
    expect(await page(dba, { environment: 2 })).toBe('orders@2 (1)');
    expect(await page(dba, { plan: 2 })).toBe('stock@1 (1)');
    expect(await page(dba, { project: 1 })).toBe('orders@1 (1)');
    expect(await page(dba, { team: 2 })).toBe('logs@1 (1)');
    expect(await page(dba, { engine: 2 })).toBe('stock@1 (1)');
    expect(await page(dba, { tags: ['eu'] })).toBe('orders@2 (1)');
    expect(await page(dba, { tags: ['shop'] })).toBe(' (0)');
    expect(await page(dba, { quarantine: true })).toBe('logs@1 (1)');
    expect(await page(dba, { quarantine: false })).toBe('orders@1 stock@1 orders@2 (3)');
    expect(await page(dev, { quarantine: true })).toBe('orders@1 stock@1 orders@2 (3)');
    // Each viewer's teams have their own total too.
    const both: AuthenticatedUser = { ...dev, teamIds: [1, 2] };
    const twelve: AuthenticatedUser = { ...dev, teamIds: [12] };
    const other: AuthenticatedUser = { ...dev, teamIds: [2] };
    await store.store.query("UPDATE database SET status = 'ready' WHERE name = 'logs'");
    const fresh = repository(store.store);
    const listed = async (viewer: AuthenticatedUser) => {
      const { items, count } = await fresh.page(viewer, {}, 0, 10);
      return `${items.map((item) => item.name).join(' ')} (${count})`;
    };
    expect(await listed(dev)).toBe('orders stock orders (3)');
    expect(await listed(both)).toBe('orders stock logs orders (4)');
    expect(await listed(twelve)).toBe(' (0)');
    expect(await listed(other)).toBe('logs (1)');
  });

  it('page: a total is reused for 2 s, not at 2 s', async () => {
    const fresh = repository(store.store);
    let now = 1_000_000;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      expect((await fresh.page(dba, {}, 0, 10)).count).toBe(0);
      // Another process writes: this one sees it once its total is 2 s old.
      await sut.claimSlot(orders);
      now += 1_999;
      expect((await fresh.page(dba, {}, 0, 10)).count).toBe(0);
      now += 1;
      expect((await fresh.page(dba, {}, 0, 10)).count).toBe(1);
    } finally {
      clock.mockRestore();
    }
  });

  it('page: a total that failed is counted again on the next page, not kept', async () => {
    const fresh = repository(store.store);
    const count = jest
      .spyOn(SelectQueryBuilder.prototype, 'getRawOne')
      .mockRejectedValueOnce(new Error('count failed'));
    try {
      await expect(fresh.page(dba, {}, 0, 10)).rejects.toThrow('count failed');
    } finally {
      count.mockRestore();
    }

    await expect(fresh.page(dba, {}, 0, 10)).resolves.toEqual({ items: [], count: 0 });
  });
});
