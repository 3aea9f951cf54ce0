import { ConflictError } from '@dbaas/core';
import { TeamEntity, UserEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { TeamRepository } from './team.repository';
import { UserRepository } from './user.repository';

/**
 * Medium test: users, teams and their memberships on a real PostgreSQL store. The seed has
 * teams 1 (team-a) and 2 (team-b), users 1 (admin, dba) and 2 (dev, in team 1).
 */
describe('UserRepository and TeamRepository on a real PostgreSQL store', () => {
  let store: TestStore;
  let users: UserRepository;
  let teams: TeamRepository;

  beforeAll(async () => {
    store = await startStore();
    users = new UserRepository(store.store.getRepository(UserEntity));
    teams = new TeamRepository(store.store.getRepository(TeamEntity));
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
  });

  it('reads a login with its hash and its team ids in order, and none for a missing user', async () => {
    await store.store.query(`INSERT INTO team_user (team_id, user_id) VALUES (2, 2)`);

    expect(await users.findLogin('dev')).toEqual({
      id: 2,
      username: 'dev',
      role: 'regular',
      passwordHash: 'x',
      teamIds: [1, 2],
    });
    expect(await users.findLogin('admin')).toMatchObject({ id: 1, teamIds: [] });
    expect(await users.findLogin('nobody')).toBeNull();
  });

  it('replaces a password hash only while the stored one is still the one checked', async () => {
    expect(await users.replacePasswordHash(2, { from: 'x', to: 'new' })).toBe(true);
    expect(await users.replacePasswordHash(2, { from: 'x', to: 'newer' })).toBe(false);

    expect(await users.findPasswordHash(2)).toBe('new');
    expect(await users.findPasswordHash(99)).toBeNull();
  });

  it('lists users and teams in id order, also after a row was rewritten', async () => {
    // An update writes a new row version at the end of the table: without an ORDER BY,
    // PostgreSQL would now return admin and team-a last.
    await users.update(1, { role: 'dba', username: 'root' });
    await teams.update(1, { name: 'team-a2' });
    const all = { page: 1, pageSize: 10 };

    expect((await users.listPage(all)).items.map((user) => user.id)).toEqual([1, 2]);
    expect((await teams.listPage(all, { ids: null })).items.map((team) => team.id)).toEqual([1, 2]);
  });

  it('writes a user with its teams, and replaces them on update', async () => {
    const id = await users.insert({
      username: 'carol',
      role: 'regular',
      passwordHash: 'h',
      teamIds: [1, 2],
    });
    expect(await users.findById(id)).toEqual({
      id,
      username: 'carol',
      role: 'regular',
      teamIds: expect.arrayContaining([1, 2]) as number[],
    });

    await users.update(id, { teamIds: [2], role: 'dba' });

    expect(await users.findById(id)).toMatchObject({ role: 'dba', teamIds: [2] });
    expect(await users.findPasswordHash(id)).toBe('h');
    await users.update(id, { passwordHash: 'h2' });
    expect(await users.findPasswordHash(id)).toBe('h2');
    expect(await users.findById(id)).toMatchObject({ role: 'dba', teamIds: [2] });
    await expect(
      users.insert({ username: 'carol', role: 'regular', passwordHash: 'h', teamIds: [] }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('replaces the members of a team, and leaves them alone when only the name changes', async () => {
    await teams.update(1, { userIds: [1] });
    await teams.update(1, { name: 'renamed' });

    expect(await teams.findById(1)).toEqual({
      id: 1,
      name: 'renamed',
      userIds: [1],
      databaseLimit: 0,
    });
    expect((await users.findLogin('dev'))?.teamIds).toEqual([]);
  });

  it('lists the teams in scope only, and refuses to delete a team that still owns things', async () => {
    const page = await teams.listPage({ page: 1, pageSize: 10 }, { ids: [2] });
    expect(page).toEqual({
      items: [{ id: 2, name: 'team-b', userIds: [], databaseLimit: 0 }],
      count: 1,
    });

    await expect(teams.delete(1)).rejects.toBeInstanceOf(ConflictError); // project `shop`
    await expect(teams.requireExisting('team', [2, 9])).rejects.toMatchObject({
      errors: { team: ['no team with id 9'] },
    });
    expect(await teams.existingIds([2, 9])).toEqual([2]);
  });
});
