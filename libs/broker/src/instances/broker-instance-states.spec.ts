import { canTransition, IllegalTransitionError, statesLeadingTo } from '@dbaas/core';
import { BrokerInstanceEntity } from '@dbaas/persistence';
import { Repository } from 'typeorm';
import {
  BROKER_INSTANCE_STATUSES,
  BROKER_INSTANCE_TRANSITIONS,
  BrokerInstanceStatus,
  INTERRUPTED_BECOMES,
  statusOf,
  STORED_AS,
} from './broker-instance-states';
import { BrokerInstanceRepository } from './broker-instance.repository';

describe('broker instance states', () => {
  it('allows exactly the moves of the lifecycle', () => {
    const allowed = BROKER_INSTANCE_STATUSES.flatMap((from) =>
      BROKER_INSTANCE_STATUSES.filter((to) =>
        canTransition(BROKER_INSTANCE_TRANSITIONS, from, to),
      ).map((to) => `${from} → ${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'deprovision failed → deprovisioning',
        'deprovisioning → deprovision failed',
        'deprovisioning → deprovisioned',
        'provision failed → deprovisioning',
        'provision failed → provisioning',
        'provisioned → deprovisioning',
        'provisioning → provision failed',
        'provisioning → provisioned',
      ].sort(),
    );
  });

  it('lets a DELETE start from a provisioned or failed instance, never from one in progress or gone', () => {
    expect(statesLeadingTo(BROKER_INSTANCE_TRANSITIONS, 'deprovisioning').sort()).toEqual(
      ['deprovision failed', 'provision failed', 'provisioned'].sort(),
    );
    expect(statesLeadingTo(BROKER_INSTANCE_TRANSITIONS, 'provisioning')).toEqual([
      'provision failed',
    ]);
  });

  it('turns an interrupted operation into its failure, by a legal move', () => {
    for (const [from, to] of Object.entries(INTERRUPTED_BECOMES)) {
      expect(canTransition(BROKER_INSTANCE_TRANSITIONS, from as BrokerInstanceStatus, to)).toBe(
        true,
      );
    }
    expect(Object.keys(INTERRUPTED_BECOMES).sort()).toEqual(['deprovisioning', 'provisioning']);
  });

  it('stores each status as its own (operation, state) pair and reads it back', () => {
    const pairs = BROKER_INSTANCE_STATUSES.map(
      (s) => `${STORED_AS[s].operation}/${STORED_AS[s].state}`,
    );
    expect(new Set(pairs).size).toBe(BROKER_INSTANCE_STATUSES.length);
    for (const status of BROKER_INSTANCE_STATUSES) {
      const { operation, state } = STORED_AS[status];
      expect(statusOf(operation, state)).toBe(status);
    }
    expect(STORED_AS.provisioning).toEqual({ operation: 'provision', state: 'in progress' });
    expect(STORED_AS['deprovision failed']).toEqual({ operation: 'deprovision', state: 'failed' });
  });
});

describe('BrokerInstanceRepository.transition', () => {
  /** A query builder that records its conditions and reports `affected` rows. */
  function fakeRows(affected: number) {
    const calls: { set?: object; where: string[]; params: Record<string, unknown> } = {
      where: [],
      params: {},
    };
    const builder: Record<string, unknown> = {};
    const record = (sql: unknown, params?: Record<string, unknown>) => {
      if (typeof sql === 'string') calls.where.push(sql);
      else if (sql && typeof sql === 'object' && 'whereFactory' in sql) {
        (sql as { whereFactory: (qb: unknown) => void }).whereFactory(builder);
      }
      Object.assign(calls.params, params);
      return builder;
    };
    Object.assign(builder, {
      update: () => builder,
      set: (values: object) => ((calls.set = values), builder),
      where: record,
      andWhere: record,
      orWhere: record,
      execute: async () => ({ affected }),
    });
    const rows = {
      createQueryBuilder: () => builder,
    } as unknown as Repository<BrokerInstanceEntity>;
    return { sut: new BrokerInstanceRepository(rows), calls };
  }

  it('refuses a move the table does not allow, before any SQL', async () => {
    const { sut, calls } = fakeRows(1);
    await expect(
      sut.transition('i-1', { from: 'deprovisioned', to: 'provisioning' }),
    ).rejects.toThrow(IllegalTransitionError);
    await expect(
      sut.transition('i-1', { from: ['provision failed', 'provisioning'], to: 'deprovisioning' }),
    ).rejects.toThrow('Service instance i-1 is provisioning; it cannot become deprovisioning.');
    expect(calls.set).toBeUndefined();
  });

  it('writes the target status and guards on the source status and operation', async () => {
    const { sut, calls } = fakeRows(1);
    const moved = await sut.transition('i-1', {
      from: 'provisioning',
      to: 'provision failed',
      operationId: 'provision-1',
      set: { error: 'boom' },
    });
    expect(moved).toBe(true);
    expect(calls.set).toEqual({ error: 'boom', operation: 'provision', state: 'failed' });
    expect(calls.params).toMatchObject({
      instanceId: 'i-1',
      operation0: 'provision',
      state0: 'in progress',
      operationId: 'provision-1',
    });
  });

  it('reports a lost race: no row was in the source status any more', async () => {
    const { sut } = fakeRows(0);
    expect(await sut.transition('i-1', { from: 'provisioned', to: 'deprovisioning' })).toBe(false);
  });
});
