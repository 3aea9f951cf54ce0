import { NotFoundError, Page, PageRequest, ValidationFailedError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { AccessPolicy } from './access-policy.service';
import { AuthenticatedUser } from './authenticated-user';
import { Team, TeamRepository } from './team.repository';
import { UserRepository } from './user.repository';

export interface TeamInput {
  name: string;
  users: number[];
  /** 0 (the default) = no limit. */
  databaseLimit?: number;
}

@Injectable()
export class TeamsService {
  constructor(
    private readonly teams: TeamRepository,
    private readonly users: UserRepository,
    private readonly policy: AccessPolicy,
  ) {}

  list(page: PageRequest, viewer: AuthenticatedUser): Promise<Page<Team>> {
    return this.teams.listPage(page, { ids: this.policy.teamScope(viewer) });
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<Team> {
    const team = await this.teams.findById(id);
    if (!team || !this.policy.canSeeTeam(viewer, id)) throw new NotFoundError('team', id);
    return team;
  }

  /**
   * The team a new object of the viewer belongs to: the one asked for, or the viewer's
   * only team. A regular user naming a team they are not in is refused the same way
   * whether it exists or not, so team ids cannot be probed.
   */
  async owningTeam(requested: number | undefined, viewer: AuthenticatedUser): Promise<number> {
    if (requested === undefined) {
      if (viewer.teamIds.length === 1) return viewer.teamIds[0];
      throw new ValidationFailedError({
        team: [`is required: you belong to ${viewer.teamIds.length} teams`],
      });
    }
    if (!this.policy.canSeeTeam(viewer, requested)) {
      throw new ValidationFailedError({ team: ['you are not a member of this team'] });
    }
    await this.teams.requireExisting('team', [requested]);
    return requested;
  }

  async create(input: TeamInput, viewer: AuthenticatedUser): Promise<Team> {
    this.policy.assertDba(viewer, 'create teams');
    await this.users.requireExisting('users', input.users);
    checkLimit(input.databaseLimit);
    const id = await this.teams.insert({
      name: input.name,
      userIds: unique(input.users),
      databaseLimit: input.databaseLimit ?? 0,
    });
    return this.get(id, viewer);
  }

  async update(id: number, input: Partial<TeamInput>, viewer: AuthenticatedUser): Promise<Team> {
    this.policy.assertDba(viewer, 'change teams');
    await this.get(id, viewer);
    checkLimit(input.databaseLimit);
    if (input.users !== undefined) await this.users.requireExisting('users', input.users);
    await this.teams.update(id, {
      name: input.name,
      userIds: input.users && unique(input.users),
      databaseLimit: input.databaseLimit,
    });
    return this.get(id, viewer);
  }

  async remove(id: number, viewer: AuthenticatedUser): Promise<void> {
    this.policy.assertDba(viewer, 'delete teams');
    await this.get(id, viewer);
    await this.teams.delete(id);
  }
}

/** A database limit is 0 (none) or more; below the current count is allowed (no new ones). */
function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
    throw new ValidationFailedError({ database_limit: ['must be 0 (no limit) or more'] });
}

function unique(ids: number[]): number[] {
  return [...new Set(ids)];
}
