import {
  ConflictError,
  NotFoundError,
  Page,
  PageRequest,
  PasswordHasher,
  ValidationFailedError,
} from '@dbaas/core';
import { Role } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { AccessPolicy } from './access-policy.service';
import { AuthenticatedUser } from './authenticated-user';
import { AuthService } from './auth.service';
import { TeamRepository } from './team.repository';
import { User, UserRepository } from './user.repository';

export interface PasswordChange {
  /** Required unless the caller is a dba; checked whenever given. */
  currentPassword?: string;
  password: string;
}

export interface UserInput {
  username: string;
  password: string;
  role: Role;
  teams: number[];
}

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly teams: TeamRepository,
    private readonly hasher: PasswordHasher,
    private readonly policy: AccessPolicy,
    private readonly auth: AuthService,
  ) {}

  list(page: PageRequest, viewer: AuthenticatedUser): Promise<Page<User>> {
    return this.users.listPage(page, this.policy.isDba(viewer) ? {} : { onlyId: viewer.id });
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<User> {
    const user = await this.users.findById(id);
    if (!user || !this.policy.canSeeUser(viewer, id)) throw new NotFoundError('user', id);
    return user;
  }

  async create(input: UserInput, viewer: AuthenticatedUser): Promise<User> {
    this.policy.assertDba(viewer, 'create users');
    await this.teams.requireExisting('teams', input.teams);
    const passwordHash = await this.hasher.hash(input.password);
    const id = await this.users.insert({
      username: input.username,
      role: input.role,
      passwordHash,
      teamIds: unique(input.teams),
    });
    return this.get(id, viewer);
  }

  async update(id: number, input: Partial<UserInput>, viewer: AuthenticatedUser): Promise<User> {
    this.policy.assertDba(viewer, 'change users');
    const { username: previousName } = await this.get(id, viewer);
    if (input.teams !== undefined) await this.teams.requireExisting('teams', input.teams);
    const passwordHash =
      input.password === undefined ? undefined : await this.hasher.hash(input.password);
    await this.users.update(id, {
      username: input.username,
      role: input.role,
      teamIds: input.teams && unique(input.teams),
      passwordHash,
    });
    const username = input.username ?? previousName;
    if (input.password !== undefined || username !== previousName) {
      this.auth.forget(previousName);
      this.auth.forget(username);
    }
    return this.get(id, viewer);
  }

  /**
   * A user changes their own password by giving the current one; a dba changes anyone's
   * without it. A wrong current password changes nothing (400 on `current_password`).
   * The write only lands if the stored hash is still the one verified, so two racing
   * changes cannot both succeed on the same current password. The remembered login is
   * dropped at once: the old password stops working with the next request.
   */
  async changePassword(
    id: number,
    change: PasswordChange,
    viewer: AuthenticatedUser,
  ): Promise<void> {
    const { username } = await this.get(id, viewer);
    const passwordHash = await this.users.findPasswordHash(id);
    if (passwordHash === null) throw new NotFoundError('user', id);
    if (change.currentPassword === undefined) {
      if (!this.policy.isDba(viewer)) {
        throw new ValidationFailedError({
          current_password: ['is required to change your password'],
        });
      }
    } else if (!(await this.hasher.verify(change.currentPassword, passwordHash))) {
      throw new ValidationFailedError({ current_password: ['is not the current password'] });
    }
    const newHash = await this.hasher.hash(change.password);
    const replaced = await this.users.replacePasswordHash(id, { from: passwordHash, to: newHash });
    this.auth.forget(username);
    if (!replaced) throw new ConflictError('The password was changed meanwhile; try again.');
  }

  async remove(id: number, viewer: AuthenticatedUser): Promise<void> {
    this.policy.assertDba(viewer, 'delete users');
    if (viewer.id === id) throw new ConflictError('You cannot delete your own user.');
    const user = await this.get(id, viewer);
    await this.users.delete(id);
    this.auth.forget(user.username);
  }

  /** For the CLI and sample data: no viewer involved; teams that do not exist are left out. */
  async createDirect(input: UserInput): Promise<User> {
    const teamIds = await this.teams.existingIds(unique(input.teams));
    const passwordHash = await this.hasher.hash(input.password);
    const user = { username: input.username, role: input.role, teamIds };
    const id = await this.users.insert({ ...user, passwordHash });
    return { id, ...user };
  }
}

function unique(ids: number[]): number[] {
  return [...new Set(ids)];
}
