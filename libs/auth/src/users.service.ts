import {
  ConflictError,
  NotFoundError,
  Page,
  PageRequest,
  PasswordHasher,
  skipTake,
  ValidationFailedError,
} from '@dbaas/core';
import { requireAll, Role, TeamEntity, translateStoreErrors, UserEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { AccessPolicy } from './access-policy.service';
import { AuthenticatedUser } from './authenticated-user';
import { AuthService } from './auth.service';

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
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @InjectRepository(TeamEntity) private readonly teams: Repository<TeamEntity>,
    private readonly hasher: PasswordHasher,
    private readonly policy: AccessPolicy,
    private readonly auth: AuthService,
  ) {}

  async list(page: PageRequest, viewer: AuthenticatedUser): Promise<Page<UserEntity>> {
    const [items, count] = await this.users.findAndCount({
      where: this.policy.isDba(viewer) ? {} : { id: viewer.id },
      relations: { teams: true },
      order: { id: 'ASC' },
      ...skipTake(page),
    });
    return { items, count };
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<UserEntity> {
    const user = await this.users.findOne({ where: { id }, relations: { teams: true } });
    if (!user || !this.policy.canSeeUser(viewer, id)) throw new NotFoundError('user', id);
    return user;
  }

  async create(input: UserInput, viewer: AuthenticatedUser): Promise<UserEntity> {
    this.policy.assertDba(viewer, 'create users');
    const teams = await requireAll(this.teams, 'team', 'teams', input.teams);
    const passwordHash = await this.hasher.hash(input.password);
    const saved = await translateStoreErrors('user', () =>
      this.users.save(this.users.create({ ...input, passwordHash, teams })),
    );
    return this.get(saved.id, viewer);
  }

  async update(
    id: number,
    input: Partial<UserInput>,
    viewer: AuthenticatedUser,
  ): Promise<UserEntity> {
    this.policy.assertDba(viewer, 'change users');
    const user = await this.get(id, viewer);
    const previousName = user.username;
    if (input.username !== undefined) user.username = input.username;
    if (input.role !== undefined) user.role = input.role;
    if (input.teams !== undefined)
      user.teams = await requireAll(this.teams, 'team', 'teams', input.teams);
    if (input.password !== undefined) user.passwordHash = await this.hasher.hash(input.password);
    await translateStoreErrors('user', () => this.users.save(user));
    if (input.password !== undefined || user.username !== previousName) {
      this.auth.forget(previousName);
      this.auth.forget(user.username);
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
    const { passwordHash } = await this.users.findOneOrFail({
      where: { id },
      select: { id: true, passwordHash: true },
    });
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
    const { affected } = await this.users.update({ id, passwordHash }, { passwordHash: newHash });
    this.auth.forget(username);
    if (!affected) throw new ConflictError('The password was changed meanwhile; try again.');
  }

  async remove(id: number, viewer: AuthenticatedUser): Promise<void> {
    this.policy.assertDba(viewer, 'delete users');
    if (viewer.id === id) throw new ConflictError('You cannot delete your own user.');
    const user = await this.get(id, viewer);
    await this.users.delete({ id });
    this.auth.forget(user.username);
  }

  /** For the CLI and sample data: no viewer involved. */
  async createDirect(input: UserInput): Promise<UserEntity> {
    const teams = await this.teams.findBy({ id: In(input.teams) });
    const passwordHash = await this.hasher.hash(input.password);
    return translateStoreErrors('user', () =>
      this.users.save(this.users.create({ ...input, passwordHash, teams })),
    );
  }
}
