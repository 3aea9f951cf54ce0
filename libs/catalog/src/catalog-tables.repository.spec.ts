import { ConflictError } from '@dbaas/core';
import { EngineEntity, InfraEntity, PlanEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { EngineRepository } from './engine.repository';
import { InfraRepository } from './infra.repository';
import { PlanRepository } from './plan.repository';

/**
 * Medium test: the catalog tables on a real PostgreSQL store. The seed has engine 1
 * (mysql), environment 1 (dev), plan 1 offered there and infras 1 and 2 of that plan.
 */
describe('catalog repositories on a real PostgreSQL store', () => {
  let store: TestStore;
  let plans: PlanRepository;
  let infras: InfraRepository;
  let engines: EngineRepository;

  beforeAll(async () => {
    store = await startStore();
    plans = new PlanRepository(store.store.getRepository(PlanEntity));
    infras = new InfraRepository(store.store.getRepository(InfraEntity));
    engines = new EngineRepository(store.store.getRepository(EngineEntity));
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
    await store.store.query(`INSERT INTO environment (name) VALUES ('prod')`);
  });

  it('writes a plan with its environments and replaces them on update, columns untouched', async () => {
    const id = await plans.insert({
      name: 'large',
      description: 'big',
      engineId: 1,
      environmentIds: [1, 2],
      sizeLimitInBytes: 5 * 1024 ** 3,
      backupHour: 3,
      backupRetentionDays: 14,
      maxConnections: 7,
      isActive: true,
      isDefault: false,
    });
    expect(await plans.findById(id)).toEqual({
      id,
      name: 'large',
      description: 'big',
      engineId: 1,
      environmentIds: expect.arrayContaining([1, 2]) as number[],
      sizeLimitInBytes: 5 * 1024 ** 3,
      backupHour: 3,
      backupRetentionDays: 14,
      maxConnections: 7,
      isActive: true,
      isDefault: false,
    });

    await plans.update(id, { environmentIds: [2], isActive: false });

    expect(await plans.findById(id)).toMatchObject({
      description: 'big',
      environmentIds: [2],
      isActive: false,
      backupHour: 3,
    });

    // null is a value (no scheduled backups); undefined leaves the column as it is.
    await plans.update(id, { backupHour: null, backupRetentionDays: 0 });
    expect(await plans.findById(id)).toMatchObject({ backupHour: null, backupRetentionDays: 0 });
  });

  it('lists the active plans with their engine type and environments for the broker', async () => {
    await plans.update(1, { environmentIds: [1, 2] });
    await store.store.query(
      `INSERT INTO plan (name, engine_id, is_active) VALUES ('old', 1, false)`,
    );

    const offered = await plans.listOffered();

    expect(offered).toHaveLength(1);
    expect(offered[0]).toMatchObject({ id: 1, engineType: { id: 1, name: 'mysql' } });
    expect(offered[0].environments.map((e) => e.name).sort()).toEqual(['dev', 'prod']);
  });

  it('answers a taken name and a delete of a referenced row with a conflict', async () => {
    await expect(
      plans.insert({
        name: 'small',
        description: '',
        engineId: 1,
        environmentIds: [],
        sizeLimitInBytes: 0,
        backupHour: null,
        backupRetentionDays: 7,
        maxConnections: 0,
        isActive: true,
        isDefault: false,
      }),
    ).rejects.toThrow(new ConflictError('A plan with that name already exists.'));
    await expect(engines.delete(1)).rejects.toThrow(
      new ConflictError('This engine is still in use by other objects; remove those first.'),
    );
    await expect(engines.requireExisting('engine', [1, 7])).rejects.toMatchObject({
      errors: { engine: ['no engine with id 7'] },
    });
  });

  it('never shows the sealed admin password, except to the engine layer, and tells its listeners of writes', async () => {
    const writes = jest.fn();
    infras.onWrite(writes);

    await infras.update(1, { capacity: 20, adminPasswordEncrypted: 'sealed' });

    expect(await infras.findById(1)).toEqual({
      id: 1,
      name: 'db1',
      engineId: 1,
      planIds: [1],
      environmentId: 1,
      addresses: ['db1:3306'],
      adminUser: 'root',
      capacity: 20,
    });
    expect(await infras.findForEngineAccess(1)).toMatchObject({
      adminPasswordEncrypted: 'sealed',
      engine: { engineType: { name: 'mysql' } },
    });
    expect(await infras.listSummaries()).toEqual([
      { id: 1, name: 'db1', engineType: 'mysql' },
      { id: 2, name: 'db2', engineType: 'mysql' },
    ]);
    expect(writes).toHaveBeenCalledTimes(1);
    await infras.delete(2);
    expect(writes).toHaveBeenCalledTimes(2);
  });

  it('writes the plans an infra serves (infra_plan) and replaces them on update, columns untouched', async () => {
    await store.store.query(`INSERT INTO plan (name, engine_id) VALUES ('large', 1), ('huge', 1)`);
    const id = await infras.insert({
      name: 'db3',
      engineId: 1,
      planIds: [3, 1],
      environmentId: 1,
      addresses: ['db3:3306'],
      adminUser: 'root',
      adminPasswordEncrypted: 'sealed',
      capacity: 5,
    });
    expect(await infras.findById(id)).toMatchObject({ planIds: [1, 3], capacity: 5 });

    await infras.update(id, { planIds: [2] });
    expect(await infras.findById(id)).toMatchObject({ planIds: [2], capacity: 5, name: 'db3' });
    expect(
      await store.store.query('SELECT plan_id FROM infra_plan WHERE infra_id = $1', [id]),
    ).toEqual([{ plan_id: 2 }]);

    await infras.update(id, { capacity: 6 });
    expect(await infras.findById(id)).toMatchObject({ planIds: [2], capacity: 6 });
  });
});
