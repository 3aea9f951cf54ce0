import { IllegalTransitionError } from '@dbaas/core';
import { BrokerInstanceEntity } from '@dbaas/persistence';
import { startStore, TestStore } from '../../../../test/harness/store.harness';
import { BrokerInstanceRepository, ProvisioningFields } from './broker-instance.repository';

const fields = (operationId: string): ProvisioningFields => ({
  serviceId: 'service-1',
  planId: 'plan-1',
  dbaasPlanId: 1,
  environmentId: 1,
  userId: 2,
  teamId: 1,
  context: { platform: 'cloudfoundry' },
  organizationGuid: 'org-1',
  spaceGuid: 'space-1',
  parameters: { name: 'orders' },
  databaseName: 'orders',
  operationId,
});

/** Medium test: the broker_instance repository on a real PostgreSQL store. */
describe('BrokerInstanceRepository on a real PostgreSQL store', () => {
  let store: TestStore;
  let sut: BrokerInstanceRepository;

  beforeAll(async () => {
    store = await startStore();
    sut = new BrokerInstanceRepository(store.store.getRepository(BrokerInstanceEntity));
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(() => store.clear());

  const stored = async (instanceId: string) =>
    (
      await store.store.query<{ operation: string; state: string; error: string | null }[]>(
        'SELECT operation, state, error FROM broker_instance WHERE instance_id = $1',
        [instanceId],
      )
    )[0];

  it('writes a new instance in provisioning, once per id', async () => {
    expect(await sut.insertProvisioning('i-1', fields('provision-1'))).toBe(true);
    expect(await sut.insertProvisioning('i-1', fields('provision-2'))).toBe(false);
    expect(await sut.find('i-1')).toMatchObject({
      status: 'provisioning',
      operationId: 'provision-1',
      parameters: { name: 'orders' },
      databaseId: null,
    });
    expect(await stored('i-1')).toEqual({
      operation: 'provision',
      state: 'in progress',
      error: null,
    });
  });

  it('moves along the table, only from the status and operation named', async () => {
    await sut.insertProvisioning('i-1', fields('provision-1'));
    const before = (await sut.find('i-1'))!.updatedAt;
    const done = { from: 'provisioning', to: 'provisioned', set: { databaseId: 7 } } as const;
    expect(await sut.transition('i-1', { ...done, operationId: 'provision-other' })).toBe(false);
    expect(await sut.transition('i-1', { ...done, operationId: 'provision-1' })).toBe(true);
    const after = (await sut.find('i-1'))!;
    expect(after).toMatchObject({ status: 'provisioned', databaseId: 7 });
    expect(after.updatedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(await stored('i-1')).toMatchObject({ operation: 'provision', state: 'succeeded' });
    // Already moved on: the same move again finds no row in `provisioning`.
    expect(await sut.transition('i-1', { ...done, operationId: 'provision-1' })).toBe(false);
  });

  it('refuses a move the table does not allow, and leaves the row as it was', async () => {
    await sut.insertProvisioning('i-1', fields('provision-1'));
    await expect(
      sut.transition('i-1', { from: 'provisioning', to: 'deprovisioned' }),
    ).rejects.toThrow(IllegalTransitionError);
    await expect(
      sut.transition('i-1', { from: 'deprovisioned', to: 'provisioning' }),
    ).rejects.toThrow('Service instance i-1 is deprovisioned; it cannot become provisioning.');
    expect((await sut.find('i-1'))!.status).toBe('provisioning');
  });

  it('lets exactly one of two racing claims win', async () => {
    await sut.insertProvisioning('i-1', fields('provision-1'));
    await sut.transition('i-1', {
      from: 'provisioning',
      to: 'provision failed',
      set: { error: 'engine down' },
    });
    const other = await store.open();
    const second = new BrokerInstanceRepository(other.getRepository(BrokerInstanceEntity));
    const claim = (repository: BrokerInstanceRepository, operationId: string) =>
      repository.transition('i-1', {
        from: ['provision failed', 'provisioned', 'deprovision failed'],
        to: 'deprovisioning',
        set: { operationId, error: null },
      });
    const wins = await Promise.all([claim(sut, 'deprovision-a'), claim(second, 'deprovision-b')]);
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await stored('i-1')).toEqual({
      operation: 'deprovision',
      state: 'in progress',
      error: null,
    });
  });

  it('forgets a refused provisioning, only the row of that operation still in progress', async () => {
    await sut.insertProvisioning('i-1', fields('provision-1'));
    await sut.forgetRefusedProvisioning('i-1', 'provision-other');
    expect(await sut.find('i-1')).not.toBeNull();
    await sut.forgetRefusedProvisioning('i-1', 'provision-1');
    expect(await sut.find('i-1')).toBeNull();
  });
});
