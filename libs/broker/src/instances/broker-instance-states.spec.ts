import { canTransition, statesLeadingTo } from '@dbaas/core';
import {
  BROKER_INSTANCE_STATUSES,
  BROKER_INSTANCE_TRANSITIONS,
  BrokerInstanceStatus,
  INTERRUPTED_BECOMES,
  statusOf,
  STORED_AS,
} from './broker-instance-states';

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
