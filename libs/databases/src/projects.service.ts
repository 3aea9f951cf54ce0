import { AccessPolicy, AuthenticatedUser, TeamsService } from '@dbaas/auth';
import { NotFoundError, Page, PageRequest, skipTake } from '@dbaas/core';
import { ProjectEntity, translateStoreErrors } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';

export interface ProjectInput {
  name: string;
  description?: string;
  /** Default: the caller's only team. */
  team?: number;
}

/**
 * Projects, the folders databases are filed under. Each belongs to one team: its members
 * and dbas see and change it, anyone else gets a 404. A name is unique within its team
 * (409). A project moves to another team, or goes, only while no database is filed under
 * it (409, from the store's references).
 */
@Injectable()
export class ProjectsService {
  constructor(
    @InjectRepository(ProjectEntity) private readonly projects: Repository<ProjectEntity>,
    private readonly teams: TeamsService,
    private readonly policy: AccessPolicy,
  ) {}

  async list(page: PageRequest, viewer: AuthenticatedUser): Promise<Page<ProjectEntity>> {
    const scope = this.policy.teamScope(viewer);
    const [items, count] = await this.projects.findAndCount({
      where: scope ? { teamId: In(scope) } : {},
      order: { id: 'ASC' },
      ...skipTake(page),
    });
    return { items, count };
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<ProjectEntity> {
    const project = await this.projects.findOneBy({ id });
    if (!project || !this.policy.canSeeTeam(viewer, project.teamId)) {
      throw new NotFoundError('project', id);
    }
    return project;
  }

  async create(input: ProjectInput, viewer: AuthenticatedUser): Promise<ProjectEntity> {
    const teamId = await this.teams.owningTeam(input.team, viewer);
    const saved = await translateStoreErrors('project', () =>
      this.projects.save(
        this.projects.create({ name: input.name, description: input.description ?? '', teamId }),
      ),
    );
    return this.get(saved.id, viewer);
  }

  async update(
    id: number,
    changes: Partial<ProjectInput>,
    viewer: AuthenticatedUser,
  ): Promise<ProjectEntity> {
    const project = await this.get(id, viewer);
    const update: Partial<ProjectEntity> = {};
    if (changes.name !== undefined) update.name = changes.name;
    if (changes.description !== undefined) update.description = changes.description;
    if (changes.team !== undefined && changes.team !== project.teamId) {
      update.teamId = await this.teams.owningTeam(changes.team, viewer);
    }
    if (Object.keys(update).length) {
      await translateStoreErrors('project', () => this.projects.update(id, update));
    }
    return this.get(id, viewer);
  }

  async remove(id: number, viewer: AuthenticatedUser): Promise<void> {
    await this.get(id, viewer);
    await translateStoreErrors('project', () => this.projects.delete({ id }));
  }
}
