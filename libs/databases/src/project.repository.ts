import { ProjectEntity, translateStoreErrors } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';

/** A project as stored (the `project` table). */
export interface ProjectRecord {
  id: number;
  name: string;
  description: string;
  teamId: number;
}

/**
 * The `project` table, owned by the databases lib (projects are folders of databases).
 * Names are unique per team, and a project still holding databases can neither move nor
 * go: the store's errors become 409s here.
 */
@Injectable()
export class ProjectRepository {
  constructor(
    @InjectRepository(ProjectEntity) private readonly projects: Repository<ProjectEntity>,
  ) {}

  /** One page, oldest first; `teams`: only the projects of those teams (null: all). */
  async page(
    teams: number[] | null,
    skip: number,
    take: number,
  ): Promise<{ items: ProjectRecord[]; count: number }> {
    const [items, count] = await this.projects.findAndCount({
      where: teams ? { teamId: In(teams) } : {},
      order: { id: 'ASC' },
      skip,
      take,
    });
    return { items: items.map(plain), count };
  }

  async findById(id: number): Promise<ProjectRecord | null> {
    const found = await this.projects.findOneBy({ id });
    return found && plain(found);
  }

  async insert(project: Omit<ProjectRecord, 'id'>): Promise<number> {
    const saved = await translateStoreErrors('project', () =>
      this.projects.save(this.projects.create(project)),
    );
    return saved.id;
  }

  async update(id: number, changes: Partial<Omit<ProjectRecord, 'id'>>): Promise<void> {
    if (!Object.keys(changes).length) return;
    await translateStoreErrors('project', () => this.projects.update(id, changes));
  }

  async delete(id: number): Promise<void> {
    await translateStoreErrors('project', () => this.projects.delete({ id }));
  }
}

function plain(project: ProjectEntity): ProjectRecord {
  return {
    id: project.id,
    name: project.name,
    description: project.description,
    teamId: project.teamId,
  };
}
