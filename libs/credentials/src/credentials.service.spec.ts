import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { EngineUnavailableError, SecretBox } from '@dbaas/core';
import { ConnectedInfra, EngineProvider, InfraAccess } from '@dbaas/engines';
import { OperationRunner, TaskSubject } from '@dbaas/operations';
import { CredentialEntity, DatabaseEntity, TaskEntity } from '@dbaas/persistence';
import { randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { CredentialsService } from './credentials.service';

const owner: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };
const database = {
  id: 5,
  name: 'orders',
  status: 'ready',
  environmentId: 1,
  teamId: 1,
  infraId: 3,
} as DatabaseEntity;

describe('CredentialsService.resetPassword', () => {
  const secrets = new SecretBox(randomBytes(32));
  /** What happened, in order, on the store and on the engine. */
  let log: string[];
  let stored: CredentialEntity;
  let credentials: jest.Mocked<
    Pick<Repository<CredentialEntity>, 'createQueryBuilder' | 'findOneBy' | 'update'>
  >;
  let databases: jest.Mocked<Pick<Repository<DatabaseEntity>, 'findOneBy' | 'findOneByOrFail'>>;
  let engine: jest.Mocked<Pick<EngineProvider, 'ping' | 'setPassword'>>;
  let sut: CredentialsService;

  beforeEach(() => {
    log = [];
    stored = {
      id: 9,
      user: 'u_orders',
      databaseId: 5,
      infraId: 3,
      privileges: 'owner',
      status: 'ready',
      passwordEncrypted: secrets.encrypt('old-password'),
    } as CredentialEntity;
    // reveal() reads through the query builder: a fake that answers the stored record.
    const builder = {
      innerJoin: () => builder,
      where: () => builder,
      andWhere: () => builder,
      addSelect: () => builder,
      getOne: async () => ({ ...stored }),
    };
    credentials = {
      createQueryBuilder: jest.fn(() => builder) as unknown as jest.Mocked<
        Repository<CredentialEntity>
      >['createQueryBuilder'],
      findOneBy: jest.fn(async (_where) => ({ ...stored })),
      update: jest.fn(async (_id, changes) => {
        Object.assign(stored, changes);
        log.push(`store ${changes.status}`);
        return { raw: [], generatedMaps: [] };
      }),
    };
    databases = {
      findOneBy: jest.fn(async (_where) => database),
      findOneByOrFail: jest.fn(async (_where) => database),
    };
    engine = {
      ping: jest.fn(async (_infra) => {
        log.push('engine ping');
        return { version: '10.11' };
      }),
      setPassword: jest.fn(
        async (_infra, _ref, password) =>
          void log.push(
            `engine password ${password === secrets.decrypt(stored.passwordEncrypted) ? 'as stored' : 'NOT as stored'}`,
          ),
      ),
    };
    const infras = {
      connect: jest.fn(
        async () => ({ provider: engine, target: { id: 3 } }) as unknown as ConnectedInfra,
      ),
    };
    const runner = {
      run: jest.fn(
        async (_subject: TaskSubject, _key: string, work: (task: TaskEntity) => Promise<unknown>) =>
          work({ id: 1 } as TaskEntity),
      ),
    };
    sut = new CredentialsService(
      credentials as unknown as Repository<CredentialEntity>,
      databases as unknown as Repository<DatabaseEntity>,
      secrets,
      infras as unknown as InfraAccess,
      new AccessPolicy(),
      runner as unknown as OperationRunner,
    );
  });

  it('stores the new password (resetting) before the engine gets it, then marks it ready', async () => {
    const { password } = await sut.resetPassword(9, owner);

    expect(log).toEqual([
      'engine ping',
      'store resetting',
      'engine password as stored',
      'store ready',
    ]);
    expect(secrets.decrypt(stored.passwordEncrypted)).toBe(password);
    expect(password).not.toBe('old-password');
  });

  it('changes nothing when the engine does not answer its ping', async () => {
    engine.ping.mockRejectedValue(new EngineUnavailableError('mysql at db1:3306 does not answer'));

    await expect(sut.resetPassword(9, owner)).rejects.toBeInstanceOf(EngineUnavailableError);

    expect(credentials.update).not.toHaveBeenCalled();
    expect(secrets.decrypt(stored.passwordEncrypted)).toBe('old-password');
  });

  it('leaves the credential resetting, with the new password, when the engine fails after the ping', async () => {
    engine.setPassword.mockRejectedValue(
      new EngineUnavailableError('mysql at db1:3306 does not answer'),
    );

    await expect(sut.resetPassword(9, owner)).rejects.toBeInstanceOf(EngineUnavailableError);

    // The reconciler puts this password on the engine (see reconcile()).
    expect(stored.status).toBe('resetting');
    expect(secrets.decrypt(stored.passwordEncrypted)).not.toBe('old-password');
  });
});
