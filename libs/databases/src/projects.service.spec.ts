import { AccessPolicy, AuthenticatedUser, TeamsService } from '@dbaas/auth';
import { ConflictError, NotFoundError, ValidationFailedError } from '@dbaas/core';
import { ProjectEntity } from '@dbaas/persistence';
import { QueryFailedError, Repository } from 'typeorm';
import { ProjectRepository } from './project.repository';
import { ProjectsService } from './projects.service';

const member: AuthenticatedUser = { id: 2, username: 'user', role: 'regular', teamIds: [2] };
const outsider: AuthenticatedUser = { id: 3, username: 'other', role: 'regular', teamIds: [3] };
const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [1] };

/** What the store throws when a statement breaks one of its constraints (`code`). */
function storeError(code: string): QueryFailedError {
  return new QueryFailedError('statement', [], Object.assign(new Error('violated'), { code }));
}

describe('ProjectsService', () => {
  /** The TypeORM repository methods the service calls. */
  let projects: Record<
    'findAndCount' | 'findOneBy' | 'create' | 'save' | 'update' | 'delete',
    jest.Mock
  >;
  let teams: { owningTeam: jest.Mock };
  let sut: ProjectsService;
  const billing = { id: 7, name: 'billing', description: '', teamId: 2 } as ProjectEntity;

  beforeEach(() => {
    projects = {
      findAndCount: jest.fn(async () => [[billing], 1]),
      findOneBy: jest.fn(async () => ({ ...billing })),
      create: jest.fn((values: object) => values),
      save: jest.fn(async (row: object) => ({ ...row, id: 7 })),
      update: jest.fn(async () => ({ affected: 1, raw: [], generatedMaps: [] })),
      delete: jest.fn(async () => ({ affected: 1, raw: [] })),
    };
    teams = { owningTeam: jest.fn(async (requested?: number) => requested ?? 2) };
    sut = new ProjectsService(
      new ProjectRepository(projects as unknown as Repository<ProjectEntity>),
      teams as unknown as TeamsService,
      new AccessPolicy(),
    );
  });

  it("lists only the projects of a regular user's teams, and every project for a dba", async () => {
    await sut.list({ page: 1, pageSize: 10 }, member);
    await sut.list({ page: 1, pageSize: 10 }, dba);

    expect(projects.findAndCount.mock.calls.map(([options]) => options.where)).toEqual([
      { teamId: expect.objectContaining({ _type: 'in', _value: [2] }) },
      {},
    ]);
  });

  it('shows a project to the members of its team and to a dba, and is a 404 for anyone else', async () => {
    await expect(sut.get(7, member)).resolves.toMatchObject({ id: 7 });
    await expect(sut.get(7, dba)).resolves.toMatchObject({ id: 7 });
    await expect(sut.get(7, outsider)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses to rename or delete a project of another team with a 404, and writes nothing', async () => {
    await expect(sut.update(7, { name: 'mine' }, outsider)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.remove(7, outsider)).rejects.toBeInstanceOf(NotFoundError);

    expect(projects.update).not.toHaveBeenCalled();
    expect(projects.delete).not.toHaveBeenCalled();
  });

  it('creates the project in the team resolved for the caller', async () => {
    await sut.create({ name: 'billing' }, member);

    expect(teams.owningTeam).toHaveBeenCalledWith(undefined, member);
    expect(projects.save).toHaveBeenCalledWith({ name: 'billing', description: '', teamId: 2 });
  });

  it('creates nothing when the team is refused', async () => {
    teams.owningTeam.mockRejectedValue(
      new ValidationFailedError({ team: ['you are not a member of this team'] }),
    );

    await expect(sut.create({ name: 'billing', team: 1 }, member)).rejects.toMatchObject({
      errors: { team: ['you are not a member of this team'] },
    });

    expect(projects.save).not.toHaveBeenCalled();
  });

  it('moves a project to another team only through the team rule, and writes only what changed', async () => {
    await sut.update(7, { description: 'money', team: 2 }, member);
    expect(teams.owningTeam).not.toHaveBeenCalled();
    expect(projects.update).toHaveBeenLastCalledWith(7, { description: 'money' });

    await sut.update(7, { team: 4 }, dba);
    expect(teams.owningTeam).toHaveBeenCalledWith(4, dba);
    expect(projects.update).toHaveBeenLastCalledWith(7, { teamId: 4 });
  });

  it('reads one page, oldest first', async () => {
    await expect(sut.list({ page: 3, pageSize: 10 }, member)).resolves.toEqual({
      items: [billing],
      count: 1,
    });

    expect(projects.findAndCount).toHaveBeenCalledWith({
      where: { teamId: expect.objectContaining({ _value: [2] }) },
      order: { id: 'ASC' },
      skip: 20,
      take: 10,
    });
  });

  it('is a 404 for a project that does not exist, for a dba too', async () => {
    projects.findOneBy.mockResolvedValue(null);

    await expect(sut.get(8, dba)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.get(8, dba)).rejects.toThrow('project 8 not found.');
    expect(projects.findOneBy).toHaveBeenCalledWith({ id: 8 });
  });

  it('answers the project as stored after a create, without other columns', async () => {
    projects.findOneBy.mockResolvedValue({ ...billing, createdAt: new Date() });

    await expect(sut.create({ name: 'billing', description: 'money' }, member)).resolves.toEqual(
      billing,
    );
    expect(projects.save).toHaveBeenCalledWith({
      name: 'billing',
      description: 'money',
      teamId: 2,
    });
  });

  it('writes only the fields given, and nothing when nothing changes', async () => {
    await sut.update(7, { name: 'ledger' }, member);
    expect(projects.update.mock.calls[0][1]).toStrictEqual({ name: 'ledger' });

    await sut.update(7, { description: 'money' }, member);
    expect(projects.update.mock.calls[1][1]).toStrictEqual({ description: 'money' });

    await sut.update(7, {}, member);
    await sut.update(7, { team: 2 }, member);
    expect(projects.update).toHaveBeenCalledTimes(2);
  });

  it('deletes a project of the caller’s team', async () => {
    await sut.remove(7, member);

    expect(projects.delete).toHaveBeenCalledWith({ id: 7 });
  });

  it("answers the store's name clash as a 409 about a project, on create and rename", async () => {
    projects.save.mockRejectedValue(storeError('23505'));
    projects.update.mockRejectedValue(storeError('23505'));

    await expect(sut.create({ name: 'billing' }, member)).rejects.toThrow(
      new ConflictError('A project with that name already exists.'),
    );
    await expect(sut.update(7, { name: 'ledger' }, member)).rejects.toThrow(
      new ConflictError('A project with that name already exists.'),
    );
  });

  it('answers a project still holding databases as a 409, on delete and on a move', async () => {
    projects.delete.mockRejectedValue(storeError('23503'));
    projects.update.mockRejectedValue(storeError('23503'));
    const inUse = new ConflictError(
      'This project is still in use by other objects; remove those first.',
    );

    await expect(sut.remove(7, member)).rejects.toThrow(inUse);
    await expect(sut.update(7, { team: 4 }, dba)).rejects.toThrow(inUse);
  });
});
