import { AccessPolicy, AuthenticatedUser, TeamsService } from '@dbaas/auth';
import { NotFoundError, Page, PageRequest, skipTake } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { ProjectRecord, ProjectRepository } from './project.repository';

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
    private readonly projects: ProjectRepository,
    private readonly teams: TeamsService,
    private readonly policy: AccessPolicy,
  ) {}

  list(page: PageRequest, viewer: AuthenticatedUser): Promise<Page<ProjectRecord>> {
    const { skip, take } = skipTake(page);
    return this.projects.page(this.policy.teamScope(viewer), skip, take);
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<ProjectRecord> {
    const project = await this.projects.findById(id);
    if (!project || !this.policy.canSeeTeam(viewer, project.teamId)) {
      throw new NotFoundError('project', id);
    }
    return project;
  }

  async create(input: ProjectInput, viewer: AuthenticatedUser): Promise<ProjectRecord> {
    const teamId = await this.teams.owningTeam(input.team, viewer);
    const id = await this.projects.insert({
      name: input.name,
      description: input.description ?? '',
      teamId,
    });
    return this.get(id, viewer);
  }

  async update(
    id: number,
    changes: Partial<ProjectInput>,
    viewer: AuthenticatedUser,
  ): Promise<ProjectRecord> {
    const project = await this.get(id, viewer);
    const update: Partial<ProjectRecord> = {};
    if (changes.name !== undefined) update.name = changes.name;
    if (changes.description !== undefined) update.description = changes.description;
    if (changes.team !== undefined && changes.team !== project.teamId) {
      update.teamId = await this.teams.owningTeam(changes.team, viewer);
    }
    await this.projects.update(id, update);
    return this.get(id, viewer);
  }

  async remove(id: number, viewer: AuthenticatedUser): Promise<void> {
    await this.get(id, viewer);
    await this.projects.delete(id);
  }
}
