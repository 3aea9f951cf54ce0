import { InfraEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { PlacementService, placementChoiceSql, roomOnInfraSql } from './placement.service';

/**
 * Medium test: placement is SQL, so it runs on a real PostgreSQL store. The seed has plan 1
 * in environment 1 with infras 1 (db1) and 2 (db2); this spec adds infra 3 (db3) of plan 2.
 */
describe('placement on a real PostgreSQL store', () => {
  let store: TestStore;

  beforeAll(async () => {
    store = await startStore();
    await seedCatalog(store.store);
    await store.store.query(`
      INSERT INTO plan (name, engine_id) VALUES ('large', 1);
      INSERT INTO infra (name, engine_id, plan_id, environment_id, addresses, admin_user, admin_password_encrypted, capacity)
        VALUES ('db3', 1, 2, 1, '["db3:3306"]', 'root', 'x', 100);
    `);
  });
  afterAll(() => store?.destroy());
  beforeEach(() => store.store.query('DELETE FROM database'));

  async function setup(
    capacities: { db1: number; db2: number },
    placed: { db1: number; db2: number },
  ) {
    await store.store.query(`UPDATE infra SET capacity = $1 WHERE id = 1`, [capacities.db1]);
    await store.store.query(`UPDATE infra SET capacity = $1 WHERE id = 2`, [capacities.db2]);
    for (const [infra, count] of [
      [1, placed.db1],
      [2, placed.db2],
    ]) {
      for (let i = 0; i < count; i++) {
        await store.store.query(
          `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
           VALUES ($1, 1, 1, $2, 1, 'ready')`,
          [`db_${infra}_${i}`, infra],
        );
      }
    }
  }

  async function choose(plan: number, environment: number): Promise<number | null> {
    const [row] = (await store.store.query(`SELECT ${placementChoiceSql('$1', '$2')} AS infra`, [
      plan,
      environment,
    ])) as { infra: number | null }[];
    return row.infra;
  }

  async function room(infra: number): Promise<boolean> {
    const [row] = (await store.store.query(`SELECT ${roomOnInfraSql('$1')} AS room`, [infra])) as {
      room: boolean;
    }[];
    return row.room;
  }

  it('chooses the infra of the plan with the most free room, not the most capacity', async () => {
    await setup({ db1: 10, db2: 5 }, { db1: 8, db2: 1 });

    expect(await choose(1, 1)).toBe(2); // db1 has 2 free, db2 has 4
  });

  it('breaks a tie on free room by the lower infra id', async () => {
    await setup({ db1: 5, db2: 6 }, { db1: 2, db2: 3 });

    expect(await choose(1, 1)).toBe(1);
  });

  it('chooses none (NULL) when every infra of the plan is full, whatever other plans have', async () => {
    await setup({ db1: 2, db2: 0 }, { db1: 2, db2: 0 });

    expect(await choose(1, 1)).toBeNull();
    expect(await choose(2, 1)).toBe(3);
    expect(await choose(1, 999)).toBeNull();
  });

  it('says an infra has room until its last slot is taken', async () => {
    await setup({ db1: 3, db2: 1 }, { db1: 2, db2: 1 });

    expect(await room(1)).toBe(true);
    expect(await room(2)).toBe(false);
  });

  it('counts the databases placed on one infra, zero for an empty one', async () => {
    await setup({ db1: 10, db2: 10 }, { db1: 3, db2: 1 });
    const sut = new PlacementService(store.store.getRepository(InfraEntity));

    expect(await sut.placed(1)).toBe(3);
    expect(await sut.placed(2)).toBe(1);
    expect(await sut.placed(3)).toBe(0);
  });
});
