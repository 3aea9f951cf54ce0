import { ForbiddenError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { AuthenticatedUser } from './authenticated-user';

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

  /** A regular user sees only their own user record. */
  canSeeUser(user: AuthenticatedUser, userId: number): boolean {
    return this.isDba(user) || user.id === userId;
  }
}
