import {
  assertTransition,
  canTransition,
  IllegalTransitionError,
  statesLeadingTo,
} from '@dbaas/core';
import { CREDENTIAL_STATUSES } from '@dbaas/persistence';
import { CREDENTIAL_RECOVERY, CREDENTIAL_TRANSITIONS } from './credential-states';

describe('CREDENTIAL_TRANSITIONS', () => {
  it('has a row for every credential state, and names only known states', () => {
    expect(Object.keys(CREDENTIAL_TRANSITIONS).sort()).toEqual([...CREDENTIAL_STATUSES].sort());
    for (const targets of Object.values(CREDENTIAL_TRANSITIONS))
      for (const to of targets) expect(CREDENTIAL_STATUSES).toContain(to);
  });

  it('allows the moves of a create, a reset and a drop', () => {
    expect(canTransition(CREDENTIAL_TRANSITIONS, 'creating', 'ready')).toBe(true);
    expect(canTransition(CREDENTIAL_TRANSITIONS, 'ready', 'resetting')).toBe(true);
    expect(canTransition(CREDENTIAL_TRANSITIONS, 'resetting', 'ready')).toBe(true);
    expect(canTransition(CREDENTIAL_TRANSITIONS, 'resetting', 'resetting')).toBe(true);
    expect(statesLeadingTo(CREDENTIAL_TRANSITIONS, 'deleting')).toEqual([
      'creating',
      'ready',
      'resetting',
    ]);
  });

  it('refuses a move back from deleting, and a reset of a credential not yet made', () => {
    expect(() =>
      assertTransition(CREDENTIAL_TRANSITIONS, 'credential 3', 'deleting', 'ready'),
    ).toThrow(IllegalTransitionError);
    expect(canTransition(CREDENTIAL_TRANSITIONS, 'creating', 'resetting')).toBe(false);
    expect(canTransition(CREDENTIAL_TRANSITIONS, 'ready', 'creating')).toBe(false);
  });

  it('has a recovery step for every state that marks work in flight, none for ready', () => {
    expect(CREDENTIAL_RECOVERY.ready).toBeUndefined();
    for (const state of CREDENTIAL_STATUSES.filter((s) => s !== 'ready'))
      expect(CREDENTIAL_RECOVERY[state]).toBeDefined();
  });
});
