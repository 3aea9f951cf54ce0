import { ValidationFailedError } from '@dbaas/core';
import { AccessPolicy } from './access-policy.service';
import { AuthenticatedUser } from './authenticated-user';
import { TeamRepository } from './team.repository';
import { TeamsService } from './teams.service';
import { UserRepository } from './user.repository';

const regular = (teamIds: number[]): AuthenticatedUser => ({
  id: 2,
  username: 'user',
  role: 'regular',
  teamIds,
});

describe('TeamsService.owningTeam', () => {
  let teams: jest.Mocked<Pick<TeamRepository, 'requireExisting'>>;
  let sut: TeamsService;

  beforeEach(() => {
    teams = { requireExisting: jest.fn().mockResolvedValue(undefined) };
    sut = new TeamsService(
      teams as unknown as TeamRepository,
      {} as UserRepository,
      new AccessPolicy(),
    );
  });

  it("defaults to the caller's only team", async () => {
    await expect(sut.owningTeam(undefined, regular([2]))).resolves.toBe(2);
  });

  it('requires a team from a caller in several teams, or in none', async () => {
    await expect(sut.owningTeam(undefined, regular([2, 3]))).rejects.toMatchObject({
      errors: { team: ['is required: you belong to 2 teams'] },
    });
    await expect(sut.owningTeam(undefined, regular([]))).rejects.toBeInstanceOf(
      ValidationFailedError,
    );
  });

  it('refuses a team the regular caller is not in, the same whether it exists or not', async () => {
    const refusal = { errors: { team: ['you are not a member of this team'] } };
    await expect(sut.owningTeam(1, regular([2]))).rejects.toMatchObject(refusal);
    await expect(sut.owningTeam(99, regular([2]))).rejects.toMatchObject(refusal);
    expect(teams.requireExisting).not.toHaveBeenCalled();
  });

  it('lets a dba name any existing team, and refuses a missing one', async () => {
    const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [1] };
    await expect(sut.owningTeam(1, dba)).resolves.toBe(1);
    expect(teams.requireExisting).toHaveBeenCalledWith('team', [1]);
    teams.requireExisting.mockRejectedValue(
      new ValidationFailedError({ team: ['no team with id 5'] }),
    );
    await expect(sut.owningTeam(5, dba)).rejects.toMatchObject({
      errors: { team: ['no team with id 5'] },
    });
  });
});
