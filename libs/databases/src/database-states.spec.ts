import {
  assertTransition,
  canTransition,
  IllegalTransitionError,
  statesLeadingTo,
} from '@dbaas/core';
import { DATABASE_STATUSES } from '@dbaas/persistence';
import { DATABASE_RECOVERY, DATABASE_TRANSITIONS, SETTLED_STATES } from './database-states';

describe('DATABASE_TRANSITIONS', () => {
  it('has a row for every database state, and names only known states', () => {
    expect(Object.keys(DATABASE_TRANSITIONS).sort()).toEqual([...DATABASE_STATUSES].sort());
    for (const targets of Object.values(DATABASE_TRANSITIONS))
      for (const to of targets) expect(DATABASE_STATUSES).toContain(to);
  });

  it('allows the two-step delete, the restore and the drift moves', () => {
    expect(statesLeadingTo(DATABASE_TRANSITIONS, 'quarantining')).toEqual(['ready', 'lost']);
    expect(statesLeadingTo(DATABASE_TRANSITIONS, 'quarantined')).toEqual([
      'quarantining',
      'restoring',
    ]);
    expect(canTransition(DATABASE_TRANSITIONS, 'quarantined', 'restoring')).toBe(true);
    expect(canTransition(DATABASE_TRANSITIONS, 'restoring', 'ready')).toBe(true);
    expect(canTransition(DATABASE_TRANSITIONS, 'ready', 'lost')).toBe(true);
    expect(canTransition(DATABASE_TRANSITIONS, 'lost', 'ready')).toBe(true);
  });

  it('moves only a ready database, and a move ends ready (moved or rolled back)', () => {
    expect(statesLeadingTo(DATABASE_TRANSITIONS, 'moving')).toEqual(['ready']);
    expect(DATABASE_TRANSITIONS.moving).toEqual(['ready', 'deleting']);
  });

  it('refuses shortcuts: a quarantined database is not ready without a restore, deleting is final', () => {
    expect(() =>
      assertTransition(DATABASE_TRANSITIONS, 'database orders', 'quarantined', 'ready'),
    ).toThrow(IllegalTransitionError);
    expect(canTransition(DATABASE_TRANSITIONS, 'creating', 'quarantining')).toBe(false);
    expect(DATABASE_TRANSITIONS.deleting).toEqual([]);
    expect(statesLeadingTo(DATABASE_TRANSITIONS, 'creating')).toEqual([]);
  });
});

describe('DATABASE_RECOVERY', () => {
  it('rolls back or finishes every transient state, and leaves the settled ones to their credentials', () => {
    expect(DATABASE_RECOVERY.creating).toBe('destroy');
    expect(DATABASE_RECOVERY.deleting).toBe('destroy');
    expect(DATABASE_RECOVERY.quarantining).toBe('give access back');
    expect(DATABASE_RECOVERY.restoring).toBe('revoke access again');
    expect(DATABASE_RECOVERY.moving).toBe('end the move');
    expect(SETTLED_STATES.sort()).toEqual(['lost', 'quarantined', 'ready']);
  });

  it('each roll back is an allowed transition', () => {
    expect(canTransition(DATABASE_TRANSITIONS, 'quarantining', 'ready')).toBe(true);
    expect(canTransition(DATABASE_TRANSITIONS, 'restoring', 'quarantined')).toBe(true);
    expect(canTransition(DATABASE_TRANSITIONS, 'creating', 'deleting')).toBe(true);
    expect(canTransition(DATABASE_TRANSITIONS, 'moving', 'ready')).toBe(true);
  });
});
