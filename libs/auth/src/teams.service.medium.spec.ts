import { ConflictError, ForbiddenError, NotFoundError } from '@dbaas/core';
import { TeamEntity, UserEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { AccessPolicy } from './access-policy.service';
import { AuthenticatedUser } from './authenticated-user';
import { TeamRepository } from './team.repository';
import { TeamsService } from './teams.service';
import { UserRepository } from './user.repository';

/**
 * Medium test: TeamsService on a real PostgreSQL store. The seed has teams 1 (team-a, with
 * user 2) and 2 (team-b, empty), users 1 (admin, dba) and 2 (dev, regular), and project
 * `shop` of team 1.
 */
describe('TeamsService on a real store', () => {
  let store: TestStore;
  let sut: TeamsService;
  const admin: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [] };
  const dev: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };
  const page = { page: 1, pageSize: 10 };

  beforeAll(async () => {
    store = await startStore();
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
    sut = new TeamsService(
      new TeamRepository(store.store.getRepository(TeamEntity)),
      new UserRepository(store.store.getRepository(UserEntity)),
      new AccessPolicy(),
    );
  });

  it('shows a regular user only their teams, a dba every team, in id order and by page', async () => {
    await expect(sut.list(page, dev)).resolves.toEqual({
      items: [{ id: 1, name: 'team-a', userIds: [2], databaseLimit: 0 }],
      count: 1,
    });
    await expect(sut.list({ page: 2, pageSize: 1 }, admin)).resolves.toEqual({
      items: [{ id: 2, name: 'team-b', userIds: [], databaseLimit: 0 }],
      count: 2,
    });
    await expect(sut.get(2, dev)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.get(1, dev)).resolves.toMatchObject({ name: 'team-a' });
    await expect(sut.get(9, admin)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates a team with each member once, and refuses members that do not exist', async () => {
    await expect(sut.create({ name: 'ops', users: [1, 2, 1] }, admin)).resolves.toEqual({
      id: 3,
      name: 'ops',
      userIds: [1, 2],
      databaseLimit: 0,
    });
    await expect(sut.create({ name: 'qa', users: [2, 9] }, admin)).rejects.toMatchObject({
      errors: { users: [expect.stringContaining('9')] },
    });
    await expect(sut.create({ name: 'ops', users: [] }, admin)).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('changes only what is given: the name, or the members', async () => {
    await expect(sut.update(2, { name: 'team-b2' }, admin)).resolves.toEqual({
      id: 2,
      name: 'team-b2',
      userIds: [],
      databaseLimit: 0,
    });
    await expect(sut.update(2, { users: [1, 2, 2] }, admin)).resolves.toEqual({
      id: 2,
      name: 'team-b2',
      userIds: [1, 2],
      databaseLimit: 0,
    });
    await expect(sut.update(2, { databaseLimit: 3 }, admin)).resolves.toEqual({
      id: 2,
      name: 'team-b2',
      userIds: [1, 2],
      databaseLimit: 3,
    });
    await expect(sut.update(2, { databaseLimit: -1 }, admin)).rejects.toMatchObject({
      errors: { database_limit: [expect.any(String)] },
    });
    await expect(sut.get(2, admin)).resolves.toMatchObject({ databaseLimit: 3 });
    await expect(sut.update(2, { users: [9] }, admin)).rejects.toMatchObject({
      errors: { users: [expect.stringContaining('9')] },
    });
    await expect(sut.update(9, { name: 'x' }, admin)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes an empty team, not one that still has a project, and only for a dba', async () => {
    await expect(sut.remove(2, dev)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(sut.create({ name: 'x', users: [] }, dev)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(sut.update(1, { name: 'x' }, dev)).rejects.toBeInstanceOf(ForbiddenError);

    await expect(sut.remove(1, admin)).rejects.toBeInstanceOf(ConflictError);
    await sut.remove(2, admin);
    await expect(sut.get(2, admin)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.remove(2, admin)).rejects.toBeInstanceOf(NotFoundError);
  });
});
