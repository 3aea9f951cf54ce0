import { InfraEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { PlacementRepository, roomOnInfraSql } from './placement.repository';

/**
 * Medium test: placement is SQL, so it runs on a real PostgreSQL store. The seed has plan 1
 * in environment 1 with infras 1 (db1) and 2 (db2); this spec adds infra 3 (db3) of plan 2.
 */
describe('PlacementRepository on a real PostgreSQL store', () => {
  let store: TestStore;
  let sut: PlacementRepository;

  beforeAll(async () => {
    store = await startStore();
    await seedCatalog(store.store);
    await store.store.query(`
      INSERT INTO plan (name, engine_id) VALUES ('large', 1);
      INSERT INTO infra (name, engine_id, environment_id, addresses, admin_user, admin_password_encrypted, capacity)
        VALUES ('db3', 1, 1, '["db3:3306"]', 'root', 'x', 100);
      INSERT INTO infra_plan (infra_id, plan_id) VALUES (3, 2);
    `);
    sut = new PlacementRepository(store.store.getRepository(InfraEntity));
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(() => store.store.query('DELETE FROM database'));

  const place = (name: string, infra: number) =>
    store.store.query(
      `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
       VALUES ($1, 1, 1, $2, 1, 'ready')`,
      [name, infra],
    );

  async function setup(
    capacities: { db1: number; db2: number },
    placed: { db1: number; db2: number },
  ) {
    await store.store.query(`UPDATE infra SET capacity = $1 WHERE id = 1`, [capacities.db1]);
    await store.store.query(`UPDATE infra SET capacity = $1 WHERE id = 2`, [capacities.db2]);
    for (let i = 0; i < placed.db1; i++) await place(`db_1_${i}`, 1);
    for (let i = 0; i < placed.db2; i++) await place(`db_2_${i}`, 2);
  }

  /** The slot claim as the databases lib writes it: an insert on the room condition. */
  async function insertIfRoom(name: string, infra: number): Promise<boolean> {
    const rows = (await store.store.query(
      `WITH inserted AS (
         INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
         SELECT $1, 1, 1, $2::int, 1, 'creating' WHERE ${roomOnInfraSql('$2::int')}
         RETURNING id)
       SELECT id FROM inserted`,
      [name, infra],
    )) as unknown[];
    return rows.length === 1;
  }

  it('chooses the infra of the plan with the most free room, not the most capacity', async () => {
    await setup({ db1: 10, db2: 5 }, { db1: 8, db2: 1 });

    expect(await sut.chooseInfra(1, 1)).toBe(2); // db1 has 2 free, db2 has 4
  });

  it('breaks a tie on free room by the lower infra id', async () => {
    await setup({ db1: 5, db2: 6 }, { db1: 2, db2: 3 });

    expect(await sut.chooseInfra(1, 1)).toBe(1);
  });

  it('chooses none when every infra of the plan is full, whatever other plans have', async () => {
    await setup({ db1: 2, db2: 0 }, { db1: 2, db2: 0 });

    expect(await sut.chooseInfra(1, 1)).toBeNull();
    expect(await sut.chooseInfra(2, 1)).toBe(3);
    expect(await sut.chooseInfra(1, 999)).toBeNull();
  });

  it('lets the slot claim take an infra until its last slot is taken, and no further', async () => {
    await setup({ db1: 3, db2: 1 }, { db1: 2, db2: 1 });

    expect(await insertIfRoom('third', 1)).toBe(true);
    expect(await insertIfRoom('fourth', 1)).toBe(false);
    expect(await insertIfRoom('second', 2)).toBe(false);
    expect(await sut.countPlaced(1)).toBe(3);
  });

  it('counts the databases placed on one infra, zero for an empty or unknown one', async () => {
    await setup({ db1: 10, db2: 10 }, { db1: 3, db2: 1 });

    expect(await sut.countPlaced(1)).toBe(3);
    expect(await sut.countPlaced(2)).toBe(1);
    expect(await sut.countPlaced(3)).toBe(0);
    expect(await sut.countPlaced(99)).toBe(0);
  });

  it('counts a database moving to an infra on both ends, as the slot claim does', async () => {
    await setup({ db1: 2, db2: 2 }, { db1: 1, db2: 1 });
    await store.store.query(
      `UPDATE database SET status = 'moving', move_infra_id = 2, move_plan_id = 1 WHERE infra_id = 1`,
    );

    expect(await sut.countPlaced(1)).toBe(1);
    expect(await sut.countPlaced(2)).toBe(2);
    expect(await insertIfRoom('third', 2)).toBe(false); // what the infra's detail must agree with
  });
});
