import { ConflictError, ForbiddenError, NotFoundError, PasswordHasher } from '@dbaas/core';
import { TeamEntity, UserEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { AccessPolicy } from './access-policy.service';
import { AuthService } from './auth.service';
import { AuthenticatedUser } from './authenticated-user';
import { TeamRepository } from './team.repository';
import { UserRepository } from './user.repository';
import { UsersService } from './users.service';

/**
 * Medium test: UsersService and AuthService on a real PostgreSQL store with the real
 * scrypt hasher. The seed has teams 1 and 2, users 1 (admin, dba) and 2 (dev, regular, in
 * team 1); their stored hash `x` matches no password.
 */
describe('UsersService and AuthService on a real store', () => {
  let store: TestStore;
  let auth: AuthService;
  let sut: UsersService;
  const admin: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [] };
  const dev: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };

  beforeAll(async () => {
    store = await startStore();
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
    const users = new UserRepository(store.store.getRepository(UserEntity));
    const teams = new TeamRepository(store.store.getRepository(TeamEntity));
    const hasher = new PasswordHasher();
    auth = new AuthService(users, hasher);
    sut = new UsersService(users, teams, hasher, new AccessPolicy(), auth);
  });

  const carol = { username: 'carol', password: 'carol-pw-1', role: 'regular' as const };

  it('creates a user who can log in with that password only, in each team once', async () => {
    const created = await sut.create({ ...carol, teams: [1, 2, 1] }, admin);

    expect(created).toEqual({ id: 3, username: 'carol', role: 'regular', teamIds: [1, 2] });
    await expect(auth.verify('carol', 'carol-pw-1')).resolves.toEqual({
      id: 3,
      username: 'carol',
      role: 'regular',
      teamIds: [1, 2],
    });
    await expect(auth.verify('carol', 'carol-pw-2')).resolves.toBeNull();
    await expect(auth.verify('nobody', 'carol-pw-1')).resolves.toBeNull();
  });

  it('lets only a dba create, change or delete users, and refuses a team that does not exist', async () => {
    await expect(sut.create({ ...carol, teams: [] }, dev)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(sut.update(2, { role: 'dba' }, dev)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(sut.remove(1, dev)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(sut.create({ ...carol, teams: [1, 9] }, admin)).rejects.toMatchObject({
      errors: { teams: [expect.stringContaining('9')] },
    });
    await expect(sut.update(2, { teams: [9] }, admin)).rejects.toMatchObject({
      errors: { teams: [expect.stringContaining('9')] },
    });
    expect(await store.store.getRepository(UserEntity).count()).toBe(2);
  });

  it('shows a regular user only themselves, a dba everyone', async () => {
    const page = { page: 1, pageSize: 10 };
    expect((await sut.list(page, dev)).items.map((u) => u.username)).toEqual(['dev']);
    expect((await sut.list(page, admin)).items.map((u) => u.username)).toEqual(['admin', 'dev']);
    await sut.createDirect({ ...carol, teams: [] });
    await expect(sut.list({ page: 2, pageSize: 1 }, admin)).resolves.toEqual({
      items: [{ id: 2, username: 'dev', role: 'regular', teamIds: [1] }],
      count: 3,
    });
    await expect(sut.list(page, dev)).resolves.toMatchObject({ count: 1 });
    await expect(sut.get(1, dev)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.get(2, dev)).resolves.toMatchObject({ username: 'dev' });
    await expect(sut.get(99, admin)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('stops accepting the old password at once when a dba changes it, and the old name when renamed', async () => {
    const { id } = await sut.create({ ...carol, teams: [] }, admin);
    await expect(auth.verify('carol', 'carol-pw-1')).resolves.not.toBeNull(); // now remembered

    await sut.update(id, { password: 'carol-pw-2' }, admin);
    await expect(auth.verify('carol', 'carol-pw-1')).resolves.toBeNull();
    await expect(auth.verify('carol', 'carol-pw-2')).resolves.not.toBeNull();

    const renamed = await sut.update(id, { username: 'caroline', teams: [2, 2] }, admin);
    expect(renamed).toEqual({ id, username: 'caroline', role: 'regular', teamIds: [2] });
    await expect(auth.verify('carol', 'carol-pw-2')).resolves.toBeNull();
    await expect(auth.verify('caroline', 'carol-pw-2')).resolves.toMatchObject({ teamIds: [2] });
  });

  it('drops the remembered login of the old and the new name on a rename or a new password only', async () => {
    const { id } = await sut.create({ ...carol, teams: [] }, admin);
    const forget = jest.spyOn(auth, 'forget');

    await sut.update(id, { role: 'dba', teams: [1] }, admin);
    await sut.update(id, { username: 'carol' }, admin);
    expect(forget).not.toHaveBeenCalled();

    await sut.update(id, { password: 'carol-pw-2' }, admin);
    expect(forget.mock.calls.flat()).toEqual(['carol', 'carol']);

    forget.mockClear();
    await sut.update(id, { username: 'caroline' }, admin);
    expect(forget.mock.calls.flat().sort()).toEqual(['carol', 'caroline']);
  });

  it('verifies a login with scrypt again once it is forgotten, and not before', async () => {
    await sut.create({ ...carol, teams: [] }, admin);
    const scrypt = jest.spyOn(PasswordHasher.prototype, 'verify');
    try {
      await auth.verify('carol', 'carol-pw-1');
      await auth.verify('carol', 'carol-pw-1');
      expect(scrypt).toHaveBeenCalledTimes(1);

      auth.forget('carol');
      await expect(auth.verify('carol', 'carol-pw-1')).resolves.toMatchObject({
        username: 'carol',
      });
      expect(scrypt).toHaveBeenCalledTimes(2);
    } finally {
      scrypt.mockRestore();
    }
  });

  it('changes only what is given', async () => {
    const { id } = await sut.create({ ...carol, teams: [1] }, admin);

    await expect(sut.update(id, { role: 'dba' }, admin)).resolves.toEqual({
      id,
      username: 'carol',
      role: 'dba',
      teamIds: [1],
    });
    await expect(auth.verify('carol', 'carol-pw-1')).resolves.toMatchObject({ role: 'dba' });
  });

  it('deletes a user, whose login stops working at once, but never the dba themselves', async () => {
    const { id } = await sut.create({ ...carol, teams: [] }, admin);
    await auth.verify('carol', 'carol-pw-1');

    await expect(sut.remove(1, admin)).rejects.toBeInstanceOf(ConflictError);
    await sut.remove(id, admin);

    await expect(auth.verify('carol', 'carol-pw-1')).resolves.toBeNull();
    await expect(sut.get(id, admin)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.remove(id, admin)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates a user directly (CLI, samples), leaving out teams that do not exist', async () => {
    const created = await sut.createDirect({ ...carol, teams: [2, 9, 2] });

    expect(created).toEqual({ id: 3, username: 'carol', role: 'regular', teamIds: [2] });
    await expect(auth.verify('carol', 'carol-pw-1')).resolves.toMatchObject({ teamIds: [2] });
  });

  it('changes your own password given the current one, against the stored hash', async () => {
    const { id } = await sut.create({ ...carol, teams: [] }, admin);
    const self: AuthenticatedUser = { id, username: 'carol', role: 'regular', teamIds: [] };

    await expect(
      sut.changePassword(id, { currentPassword: 'wrong', password: 'carol-pw-2' }, self),
    ).rejects.toMatchObject({ errors: { current_password: ['is not the current password'] } });
    await sut.changePassword(id, { currentPassword: 'carol-pw-1', password: 'carol-pw-2' }, self);

    await expect(auth.verify('carol', 'carol-pw-1')).resolves.toBeNull();
    await expect(auth.verify('carol', 'carol-pw-2')).resolves.toMatchObject({ id });
  });
});
