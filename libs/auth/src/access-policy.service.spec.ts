import { ForbiddenError } from '@dbaas/core';
import { AccessPolicy } from './access-policy.service';
import { AuthenticatedUser } from './authenticated-user';

const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [] };
const dev: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1, 4] };
const loner: AuthenticatedUser = { id: 3, username: 'loner', role: 'regular', teamIds: [] };

/** Every database state, and the ones a regular user must not see (quarantine, removal). */
const VISIBLE = ['creating', 'ready', 'lost'];
const HIDDEN = ['quarantining', 'quarantined', 'restoring', 'deleting'];

/** Records the conditions a query would get; the policy only calls andWhere. */
class RecordedQuery {
  readonly conditions: { sql: string; parameters?: Record<string, unknown> }[] = [];
  andWhere(sql: string, parameters?: Record<string, unknown>): this {
    this.conditions.push({ sql, parameters });
    return this;
  }
}

describe('AccessPolicy', () => {
  const policy = new AccessPolicy();

  it('lets only a dba do operator actions, naming the action in the 403', () => {
    expect(() => policy.assertDba(dba, 'add engines')).not.toThrow();
    expect(() => policy.assertDba(dev, 'add engines')).toThrow(ForbiddenError);
    expect(() => policy.assertDba(dev, 'add engines')).toThrow('Only a dba may add engines.');
  });

  it('scopes a regular user to their teams, a dba to every team (null)', () => {
    expect(policy.teamScope(dba)).toBeNull();
    expect(policy.teamScope(dev)).toEqual([1, 4]);
    expect(policy.canSeeTeam(dev, 4)).toBe(true);
    expect(policy.canSeeTeam(dev, 2)).toBe(false);
    expect(policy.canSeeTeam(dba, 2)).toBe(true);
  });

  it('shows a regular user the databases of their teams in every state but quarantine and removal', () => {
    for (const status of VISIBLE) {
      expect(policy.canSeeDatabase(dev, { teamId: 1, status })).toBe(true);
    }
    for (const status of HIDDEN) {
      expect(policy.canSeeDatabase(dev, { teamId: 1, status })).toBe(false);
    }
  });

  it("hides another team's database from a regular user, in any state", () => {
    for (const status of [...VISIBLE, ...HIDDEN]) {
      expect(policy.canSeeDatabase(dev, { teamId: 2, status })).toBe(false);
    }
  });

  it('shows a dba every database, hidden states included', () => {
    for (const status of [...VISIBLE, ...HIDDEN]) {
      expect(policy.canSeeDatabase(dba, { teamId: 2, status })).toBe(true);
    }
  });

  it("restricts a regular user's query to their teams and the visible states", () => {
    const query = policy.scopeDatabases(dev, new RecordedQuery(), 'db');

    expect(query.conditions).toEqual([
      { sql: 'db.teamId IN (:...scopeTeams)', parameters: { scopeTeams: [1, 4] } },
      { sql: 'db.status NOT IN (:...hiddenStates)', parameters: { hiddenStates: HIDDEN } },
    ]);
  });

  it('gives a user without a team a query that matches no team (never an empty IN list)', () => {
    const query = policy.scopeDatabases(loner, new RecordedQuery());

    expect(query.conditions[0]).toEqual({
      sql: 'database.teamId IN (:...scopeTeams)',
      parameters: { scopeTeams: [0] },
    });
  });

  it("leaves a dba's query unrestricted", () => {
    expect(policy.scopeDatabases(dba, new RecordedQuery()).conditions).toEqual([]);
  });

  it('lets a regular user see only their own user record', () => {
    expect(policy.canSeeUser(dev, 2)).toBe(true);
    expect(policy.canSeeUser(dev, 3)).toBe(false);
    expect(policy.canSeeUser(dba, 3)).toBe(true);
  });
});
