import { Page, PageRequest, skipTake } from '@dbaas/core';
import { jsonColumn, requireAll, Role, translateStoreErrors, UserEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DeepPartial, Repository } from 'typeorm';

export interface User {
  id: number;
  username: string;
  role: Role;
  /** The teams it is a member of (`team_user`). */
  teamIds: number[];
}

/** What a login is checked against: the user and its scrypt hash. */
export interface LoginRecord extends User {
  passwordHash: string;
}

export interface UserWrite {
  username: string;
  role: Role;
  passwordHash: string;
  teamIds: number[];
}

interface LoginRow {
  id: number;
  username: string;
  role: Role;
  password_hash: string;
  team_ids: number[] | null;
}

/** The `user` table (its team memberships are written through it, or through TeamRepository). */
@Injectable()
export class UserRepository {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  /** A page in id order; `onlyId` limits it to that user (what a regular user may see). */
  async listPage(page: PageRequest, filter: { onlyId?: number } = {}): Promise<Page<User>> {
    const [rows, count] = await this.users.findAndCount({
      where: filter.onlyId === undefined ? {} : { id: filter.onlyId },
      relations: { teams: true },
      order: { id: 'ASC' },
      ...skipTake(page),
    });
    return { items: rows.map(toUser), count };
  }

  async findById(id: number): Promise<User | null> {
    const row = await this.users.findOne({ where: { id }, relations: { teams: true } });
    return row ? toUser(row) : null;
  }

  /**
   * The user, hash and team ids for a login. Every authenticated request runs this: one
   * hand-written statement, no query builder.
   */
  async findLogin(username: string): Promise<LoginRecord | null> {
    const [row] = await this.users.query<LoginRow[]>(
      `SELECT u.id, u.username, u.role, u.password_hash,
              (SELECT json_agg(tu.team_id ORDER BY tu.team_id) FROM team_user tu WHERE tu.user_id = u.id) AS team_ids
         FROM "user" u
        WHERE u.username = $1`,
      [username],
    );
    if (!row) return null;
    return {
      id: Number(row.id),
      username: row.username,
      role: row.role,
      passwordHash: row.password_hash,
      teamIds: jsonColumn<number[]>(row.team_ids, []).map(Number),
    };
  }

  async findPasswordHash(id: number): Promise<string | null> {
    const row = await this.users.findOne({
      where: { id },
      select: { id: true, passwordHash: true },
    });
    return row?.passwordHash ?? null;
  }

  count(): Promise<number> {
    return this.users.count();
  }

  /** Inserts the user with its memberships; answers its id (409 on a taken name). */
  async insert(values: UserWrite): Promise<number> {
    const saved = await translateStoreErrors('user', () =>
      this.users.save(this.users.create(toRow(values))),
    );
    return saved.id;
  }

  /** Sets the given fields (memberships too, when given); `undefined` leaves one as is. */
  async update(id: number, changes: Partial<UserWrite>): Promise<void> {
    await translateStoreErrors('user', () => this.users.save({ ...toRow(changes), id }));
  }

  /**
   * Sets a new hash only if the stored one is still `from`, so two racing changes cannot
   * both succeed on the same current password; false when it had changed meanwhile.
   */
  async replacePasswordHash(id: number, change: { from: string; to: string }): Promise<boolean> {
    const { affected } = await this.users.update(
      { id, passwordHash: change.from },
      { passwordHash: change.to },
    );
    return Boolean(affected);
  }

  async delete(id: number): Promise<void> {
    await this.users.delete({ id });
  }

  /** Fails validation on `field` ("no user with id 7") unless every id has a row. */
  async requireExisting(field: string, ids: number[]): Promise<void> {
    await requireAll(this.users, 'user', field, ids);
  }
}

function toUser(row: UserEntity): User {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    teamIds: row.teams.map((team) => team.id),
  };
}

function toRow(values: Partial<UserWrite>): DeepPartial<UserEntity> {
  const row: DeepPartial<UserEntity> = {};
  if (values.username !== undefined) row.username = values.username;
  if (values.role !== undefined) row.role = values.role;
  if (values.passwordHash !== undefined) row.passwordHash = values.passwordHash;
  if (values.teamIds !== undefined) row.teams = values.teamIds.map((id) => ({ id }));
  return row;
}
