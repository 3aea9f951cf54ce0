import { ForbiddenError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { AuthenticatedUser } from './authenticated-user';

/**
 * States in which a database is, or is on its way in or out of, quarantine (or being
 * removed): hidden from regular users, so a restore or a failing delete never shows it again.
 */
const HIDDEN_STATES = ['quarantining', 'quarantined', 'restoring', 'deleting'];

/** The part of a TypeORM query builder the policy needs. */
interface WhereQuery {
  andWhere(condition: string, parameters?: Record<string, unknown>): unknown;
}

/**
 * The one place that answers "may this user see or change this object". Modules ask it
 * instead of re-implementing team scoping. Objects a user may not see are reported as
 * not found by the callers, so their existence does not leak.
 */
@Injectable()
export class AccessPolicy {
  isDba(user: AuthenticatedUser): boolean {
    return user.role === 'dba';
  }

  /** Catalog writes and other operator actions. */
  assertDba(user: AuthenticatedUser, action = 'do this'): void {
    if (!this.isDba(user)) throw new ForbiddenError(`Only a dba may ${action}.`);
  }

  /** The teams whose objects the user sees; null means every team (a dba). */
  teamScope(user: AuthenticatedUser): number[] | null {
    return this.isDba(user) ? null : user.teamIds;
  }

  canSeeTeam(user: AuthenticatedUser, teamId: number): boolean {
    return this.isDba(user) || user.teamIds.includes(teamId);
  }

  /**
   * Databases (and through them, credentials): a dba sees all; a regular user sees the
   * databases of their teams that are not in quarantine.
   */
  canSeeDatabase(user: AuthenticatedUser, database: { teamId: number; status: string }): boolean {
    if (this.isDba(user)) return true;
    return user.teamIds.includes(database.teamId) && !HIDDEN_STATES.includes(database.status);
  }

  /**
   * The same rule as canSeeDatabase, for queries: restricts an SQL query on a joined
   * `database` alias to what the user may see.
   */
  scopeDatabases<Q extends WhereQuery>(user: AuthenticatedUser, query: Q, alias = 'database'): Q {
    if (this.isDba(user)) return query;
    const teams = user.teamIds.length ? user.teamIds : [0];
    query.andWhere(`${alias}.teamId IN (:...scopeTeams)`, { scopeTeams: teams });
    query.andWhere(`${alias}.status NOT IN (:...hiddenStates)`, { hiddenStates: HIDDEN_STATES });
    return query;
  }

  /** A regular user sees only their own user record. */
  canSeeUser(user: AuthenticatedUser, userId: number): boolean {
    return this.isDba(user) || user.id === userId;
  }
}
