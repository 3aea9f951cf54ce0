import { NotFoundError, Page, PageRequest, skipTake, ValidationFailedError } from '@dbaas/core';
import { requireAll, TeamEntity, translateStoreErrors, UserEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { AccessPolicy } from './access-policy.service';
import { AuthenticatedUser } from './authenticated-user';

export interface TeamInput {
  name: string;
  users: number[];
}

@Injectable()
export class TeamsService {
  constructor(
    @InjectRepository(TeamEntity) private readonly teams: Repository<TeamEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly policy: AccessPolicy,
  ) {}

  async list(page: PageRequest, viewer: AuthenticatedUser): Promise<Page<TeamEntity>> {
    const scope = this.policy.teamScope(viewer);
    const [items, count] = await this.teams.findAndCount({
      where: scope ? { id: In(scope) } : {},
      relations: { users: true },
      order: { id: 'ASC' },
      ...skipTake(page),
    });
    return { items, count };
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<TeamEntity> {
    const team = await this.teams.findOne({ where: { id }, relations: { users: true } });
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
    await requireAll(this.teams, 'team', 'team', [requested]);
    return requested;
  }

  async create(input: TeamInput, viewer: AuthenticatedUser): Promise<TeamEntity> {
    this.policy.assertDba(viewer, 'create teams');
    const users = await requireAll(this.users, 'user', 'users', input.users);
    const saved = await translateStoreErrors('team', () =>
      this.teams.save(this.teams.create({ name: input.name, users })),
    );
    return this.get(saved.id, viewer);
  }

  async update(
    id: number,
    input: Partial<TeamInput>,
    viewer: AuthenticatedUser,
  ): Promise<TeamEntity> {
    this.policy.assertDba(viewer, 'change teams');
    const team = await this.get(id, viewer);
    if (input.name !== undefined) team.name = input.name;
    if (input.users !== undefined)
      team.users = await requireAll(this.users, 'user', 'users', input.users);
    await translateStoreErrors('team', () => this.teams.save(team));
    return this.get(id, viewer);
  }

  async remove(id: number, viewer: AuthenticatedUser): Promise<void> {
    this.policy.assertDba(viewer, 'delete teams');
    await this.get(id, viewer);
    await translateStoreErrors('team', () => this.teams.delete({ id }));
  }
}
