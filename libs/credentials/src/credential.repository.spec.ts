import { AccessPolicy } from '@dbaas/auth';
import { IllegalTransitionError } from '@dbaas/core';
import { CredentialEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { CredentialRepository } from './credential.repository';

/** Medium test: the `credential` table's repository on a real PostgreSQL store. */
describe('CredentialRepository on a real PostgreSQL store', () => {
  let store: TestStore;
  let sut: CredentialRepository;

  beforeAll(async () => {
    store = await startStore();
    sut = new CredentialRepository(store.store.getRepository(CredentialEntity), new AccessPolicy());
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(async () => {
    await store.clear();
    await seedCatalog(store.store);
    await store.store.query(
      `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
       VALUES ('orders', 1, 1, 1, 1, 'ready')`,
    );
  });

  const app = { user: 'app', databaseId: 1, infraId: 1, privileges: 'owner' as const };
  const row = async (id: number) =>
    (
      (await store.store.query('SELECT status, password_encrypted FROM credential WHERE id = $1', [
        id,
      ])) as { status: string; password_encrypted: string }[]
    )[0];

  it('insertCreating claims the name on the infra: a second insert of it gets null', async () => {
    const made = await sut.insertCreating({ ...app, passwordEncrypted: 'sealed-1' });
    expect(made).toMatchObject({ id: 1, user: 'app', status: 'creating' });
    expect(await sut.isUserTaken(1, 'app')).toBe(true);
    expect(await sut.insertCreating({ ...app, passwordEncrypted: 'sealed-2' })).toBeNull();
  });

  it("usersOfOtherDatabases: the names other databases' credentials hold on an infra", async () => {
    await store.store.query(
      `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
       VALUES ('ledger', 1, 1, 1, 1, 'ready')`,
    );
    await sut.insertCreating({ ...app, passwordEncrypted: 'sealed' });
    await sut.insertCreating({ ...app, user: 'clerk', databaseId: 2, passwordEncrypted: 'x' });
    expect(await sut.usersOfOtherDatabases(1, 1)).toEqual(['clerk']);
    expect(await sut.usersOfOtherDatabases(1, 2)).toEqual(['app']);
    expect(await sut.usersOfOtherDatabases(2, 1)).toEqual([]);
  });

  it('transition: a reset stores the new password with the state, then ready', async () => {
    const { id } = (await sut.insertCreating({ ...app, passwordEncrypted: 'old' }))!;
    await sut.transition(id, 'creating', 'ready');
    await sut.transition(id, 'ready', 'resetting', { passwordEncrypted: 'new' });
    expect(await row(id)).toEqual({ status: 'resetting', password_encrypted: 'new' });
    await sut.transition(id, 'resetting', 'ready');
    expect(await row(id)).toEqual({ status: 'ready', password_encrypted: 'new' });
  });

  it('transition: refuses an illegal move and a stale one, writing nothing', async () => {
    const { id } = (await sut.insertCreating({ ...app, passwordEncrypted: 'old' }))!;
    await expect(sut.transition(id, 'creating', 'resetting')).rejects.toBeInstanceOf(
      IllegalTransitionError,
    );
    await expect(sut.transition(id, 'ready', 'resetting')).rejects.toThrow(
      `credential ${id} is no longer ready.`,
    );
    expect(await row(id)).toEqual({ status: 'creating', password_encrypted: 'old' });
  });

  it('markAllDeleting and deleteAllOfDatabase: a database going takes its credentials', async () => {
    await sut.insertCreating({ ...app, passwordEncrypted: 'a' });
    const other = (await sut.insertCreating({ ...app, user: 'ro', passwordEncrypted: 'b' }))!;
    await sut.transition(other.id, 'creating', 'ready');

    await sut.markAllDeleting(1);
    expect((await sut.ofDatabase(1)).map((c) => c.status)).toEqual(['deleting', 'deleting']);
    expect(await sut.databasesWithUnfinishedWork()).toEqual([1]);

    await sut.deleteAllOfDatabase(1);
    expect(await sut.ofDatabase(1)).toEqual([]);
  });
});
