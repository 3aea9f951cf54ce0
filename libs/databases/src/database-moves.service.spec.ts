import { CredentialsService } from '@dbaas/credentials';
import { EngineProvider, InfraAccess } from '@dbaas/engines';
import { OperationRunner } from '@dbaas/operations';
import { DatabaseRepository, DatabaseRow } from './database.repository';
import { DatabaseMoves } from './database-moves.service';

/** endMove with fakes of the named methods it calls (the e2e moves real databases). */
describe('DatabaseMoves.endMove', () => {
  const row = {
    id: 7,
    name: 'shop',
    status: 'moving',
    infraId: 1,
    moveInfraId: 2,
    overSizeLimit: true,
  } as unknown as DatabaseRow;
  let log: string[];
  let credentials: Record<
    'usersOfOtherDatabases' | 'dropUsers' | 'claimOnInfra' | 'restoreAll',
    jest.Mock
  >;
  let sut: DatabaseMoves;

  beforeEach(() => {
    log = [];
    const databases = {
      findRow: jest.fn(async () => ({ ...row })),
      endMove: jest.fn(async () => void log.push('row ready')),
    };
    credentials = {
      usersOfOtherDatabases: jest.fn(async () => ['u_taken']),
      dropUsers: jest.fn(async (database: DatabaseRow, keep: string[]) => {
        log.push(`drop users on ${database.infraId} except ${String(keep)}`);
      }),
      claimOnInfra: jest.fn(async () => undefined),
      restoreAll: jest.fn(async (database: DatabaseRow) => {
        log.push(`access back on ${database.infraId}, writes blocked: ${database.overSizeLimit}`);
      }),
    };
    const provider = {
      dropDatabase: jest.fn(async () => void log.push('drop database on 2')),
    } as unknown as EngineProvider;
    const infras = { connect: jest.fn(async () => ({ provider, target: {} })) };
    sut = new DatabaseMoves(
      databases as unknown as DatabaseRepository,
      credentials as unknown as CredentialsService,
      infras as unknown as InfraAccess,
      {} as OperationRunner,
    );
  });

  it("drops the other end's users except names other databases hold there, and gives writes back", async () => {
    await sut.endMove({ id: 7 });

    expect(credentials.usersOfOtherDatabases).toHaveBeenCalledWith(2, 7);
    expect(log).toEqual([
      'drop users on 2 except u_taken',
      'drop database on 2',
      // The row leaves the move with over_size_limit false: its logins must not stay blocked.
      'access back on 1, writes blocked: false',
      'row ready',
    ]);
  });
});
