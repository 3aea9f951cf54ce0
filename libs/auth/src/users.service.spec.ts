import { ConflictError, NotFoundError, PasswordHasher } from '@dbaas/core';
import { AccessPolicy } from './access-policy.service';
import { AuthService } from './auth.service';
import { AuthenticatedUser } from './authenticated-user';
import { TeamRepository } from './team.repository';
import { UserRepository } from './user.repository';
import { UsersService } from './users.service';

const carol: AuthenticatedUser = { id: 5, username: 'carol', role: 'regular', teamIds: [2] };
const dave: AuthenticatedUser = { id: 6, username: 'dave', role: 'regular', teamIds: [2] };
const admin: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [1] };

describe('UsersService.changePassword', () => {
  let users: jest.Mocked<
    Pick<UserRepository, 'findById' | 'findPasswordHash' | 'replacePasswordHash'>
  >;
  let hasher: { hash: jest.Mock; verify: jest.Mock };
  let auth: { forget: jest.Mock };
  let sut: UsersService;

  beforeEach(() => {
    users = {
      findById: jest.fn().mockResolvedValue({
        id: 5,
        username: 'carol',
        role: 'regular',
        teamIds: [],
      }),
      findPasswordHash: jest.fn().mockResolvedValue('old-hash'),
      replacePasswordHash: jest.fn().mockResolvedValue(true),
    };
    hasher = {
      hash: jest.fn(async (password: string) => `hash of ${password}`),
      verify: jest.fn(
        async (password: string, hash: string) => hash === 'old-hash' && password === 'old-pw',
      ),
    };
    auth = { forget: jest.fn() };
    sut = new UsersService(
      users as unknown as UserRepository,
      {} as TeamRepository,
      hasher as unknown as PasswordHasher,
      new AccessPolicy(),
      auth as unknown as AuthService,
    );
  });

  it('changes your own password given the current one, only if the hash is still the one checked, and drops the remembered login', async () => {
    await sut.changePassword(5, { currentPassword: 'old-pw', password: 'new-pw' }, carol);

    expect(users.replacePasswordHash).toHaveBeenCalledWith(5, {
      from: 'old-hash',
      to: 'hash of new-pw',
    });
    expect(auth.forget).toHaveBeenCalledWith('carol');
  });

  it('refuses a wrong or missing current password, and changes nothing', async () => {
    await expect(
      sut.changePassword(5, { currentPassword: 'guess', password: 'new-pw' }, carol),
    ).rejects.toMatchObject({ errors: { current_password: ['is not the current password'] } });
    await expect(sut.changePassword(5, { password: 'new-pw' }, carol)).rejects.toMatchObject({
      errors: { current_password: ['is required to change your password'] },
    });

    expect(users.replacePasswordHash).not.toHaveBeenCalled();
    expect(hasher.hash).not.toHaveBeenCalled();
  });

  it("answers 404 to a regular user for another user's password, and changes nothing", async () => {
    await expect(
      sut.changePassword(5, { currentPassword: 'old-pw', password: 'new-pw' }, dave),
    ).rejects.toBeInstanceOf(NotFoundError);

    expect(users.replacePasswordHash).not.toHaveBeenCalled();
  });

  it("lets a dba change anyone's password without the current one, but checks one that is given", async () => {
    await sut.changePassword(5, { password: 'new-pw' }, admin);
    expect(users.replacePasswordHash).toHaveBeenCalledTimes(1);
    expect(auth.forget).toHaveBeenCalledWith('carol');

    await expect(
      sut.changePassword(5, { currentPassword: 'guess', password: 'new-pw' }, admin),
    ).rejects.toMatchObject({ errors: { current_password: ['is not the current password'] } });
    expect(users.replacePasswordHash).toHaveBeenCalledTimes(1);
  });

  it('answers 404 when the user is deleted between reading it and its hash, and changes nothing', async () => {
    users.findPasswordHash.mockResolvedValue(null);

    await expect(sut.changePassword(5, { password: 'new-pw' }, admin)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(users.replacePasswordHash).not.toHaveBeenCalled();
  });

  it('answers 409 when the password changed between the check and the write', async () => {
    users.replacePasswordHash.mockResolvedValue(false);

    await expect(
      sut.changePassword(5, { currentPassword: 'old-pw', password: 'new-pw' }, carol),
    ).rejects.toBeInstanceOf(ConflictError);
  });
});
