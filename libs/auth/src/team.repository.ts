import { Page, PageRequest, skipTake } from '@dbaas/core';
import { requireAll, TeamEntity, translateStoreErrors } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DeepPartial, In, Repository } from 'typeorm';

export interface Team {
  id: number;
  name: string;
  /** Its members (`team_user`). */
  userIds: number[];
  /** How many databases it may have; 0 = no limit (enforced by DatabaseRepository.claimSlot). */
  databaseLimit: number;
}

export interface TeamWrite {
  name: string;
  userIds: number[];
  databaseLimit?: number;
}

/** The `team` table and its `team_user` memberships. */
@Injectable()
export class TeamRepository {
  constructor(@InjectRepository(TeamEntity) private readonly teams: Repository<TeamEntity>) {}

  /** A page in id order; `ids` limits it to those teams (null: every team). */
  async listPage(page: PageRequest, filter: { ids: number[] | null }): Promise<Page<Team>> {
    const [rows, count] = await this.teams.findAndCount({
      where: filter.ids ? { id: In(filter.ids) } : {},
      relations: { users: true },
      order: { id: 'ASC' },
      ...skipTake(page),
    });
    return { items: rows.map(toTeam), count };
  }

  async findById(id: number): Promise<Team | null> {
    const row = await this.teams.findOne({ where: { id }, relations: { users: true } });
    return row ? toTeam(row) : null;
  }

  /** Inserts the team with its members; answers its id (409 on a taken name). */
  async insert(values: TeamWrite): Promise<number> {
    const saved = await translateStoreErrors('team', () =>
      this.teams.save(this.teams.create(toRow(values))),
    );
    return saved.id;
  }

  /** Sets the given fields (the members too, when given); `undefined` leaves one as is. */
  async update(id: number, changes: Partial<TeamWrite>): Promise<void> {
    await translateStoreErrors('team', () => this.teams.save({ ...toRow(changes), id }));
  }

  /** 409 while something still belongs to the team. */
  async delete(id: number): Promise<void> {
    await translateStoreErrors('team', () => this.teams.delete({ id }));
  }

  /** The ids among these that have a row. */
  async existingIds(ids: number[]): Promise<number[]> {
    if (!ids.length) return [];
    const rows = await this.teams.find({ select: { id: true }, where: { id: In(ids) } });
    return rows.map((row) => row.id);
  }

  /** Fails validation on `field` ("no team with id 7") unless every id has a row. */
  async requireExisting(field: string, ids: number[]): Promise<void> {
    await requireAll(this.teams, 'team', field, ids);
  }
}

function toTeam(row: TeamEntity): Team {
  return {
    id: row.id,
    name: row.name,
    userIds: row.users.map((user) => user.id),
    databaseLimit: row.databaseLimit,
  };
}

function toRow(values: Partial<TeamWrite>): DeepPartial<TeamEntity> {
  const row: DeepPartial<TeamEntity> = {};
  if (values.name !== undefined) row.name = values.name;
  if (values.userIds !== undefined) row.users = values.userIds.map((id) => ({ id }));
  if (values.databaseLimit !== undefined) row.databaseLimit = values.databaseLimit;
  return row;
}
