import { AccessPolicy } from '@dbaas/auth';
import { ConflictError, IllegalTransitionError } from '@dbaas/core';
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
    const illegal = sut.transition(id, 'creating', 'resetting');
    await expect(illegal).rejects.toBeInstanceOf(IllegalTransitionError);
    await expect(illegal).rejects.toThrow(
      `credential ${id} is creating; it cannot become resetting.`,
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

  describe('reads', () => {
    /** A second database (team 2) with `user` on infra 2; its credential's id. */
    async function otherDatabaseWith(user: string, status = 'ready'): Promise<number> {
      await store.store.query(
        `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
         VALUES ('ledger', 1, 1, 2, 2, 'ready')`,
      );
      const [{ id }] = (await store.store.query(
        `INSERT INTO credential ("user", database_id, infra_id, privileges, status, password_encrypted)
         VALUES ($1, 2, 2, 'read-only', $2, 'sealed-other') RETURNING id`,
        [user, status],
      )) as { id: number }[];
      return id;
    }
    const ready = async (user: string, privileges: 'owner' | 'read-only' = 'owner') => {
      const { id } = (await sut.insertCreating({
        ...app,
        user,
        privileges,
        passwordEncrypted: `sealed-${user}`,
      }))!;
      await sut.transition(id, 'creating', 'ready');
      return id;
    };
    const dba = { id: 1, username: 'admin', role: 'dba' as const, teamIds: [] };

    it("pageVisible: one database's live credentials when asked, every visible one otherwise", async () => {
      await ready('app');
      await otherDatabaseWith('clerk');

      const users = async (database?: number) =>
        (await sut.pageVisible(dba, database, 0, 10)).items.map((c) => c.user);
      expect(await users()).toEqual(['app', 'clerk']);
      expect(await users(2)).toEqual(['clerk']);
      expect((await sut.pageVisible(dba, undefined, 1, 10)).count).toBe(2);
    });

    it('pageVisible: in id order, also once a row was updated (its new version is last on disk)', async () => {
      // On disk: bob, cid, app. Neither that order nor its reverse (a hash join's) is the ids'.
      const first = await ready('app');
      await ready('bob');
      await ready('cid');
      await store.store.query(`UPDATE credential SET privileges = 'read-only' WHERE id = $1`, [
        first,
      ]);

      const users = async (skip: number, take: number) =>
        (await sut.pageVisible(dba, undefined, skip, take)).items.map((c) => c.user);
      expect(await users(0, 10)).toEqual(['app', 'bob', 'cid']);
      expect(await users(1, 1)).toEqual(['bob']);
    });

    it('findVisibleSealed: a live credential with its sealed password, null when not visible or not live', async () => {
      const id = await ready('app');
      const half = (await sut.insertCreating({ ...app, user: 'half', passwordEncrypted: 'h' }))!;
      const viewer = { id: 2, username: 'dev', role: 'regular' as const, teamIds: [1] };

      expect(await sut.findVisibleSealed(id, viewer)).toMatchObject({
        user: 'app',
        status: 'ready',
        passwordEncrypted: 'sealed-app',
      });
      expect(await sut.findVisibleSealed(half.id, viewer)).toBeNull();
      expect(await sut.findVisibleSealed(id, { ...viewer, teamIds: [2] })).toBeNull();
    });

    it('findById and sealedPassword: a credential in any state; a gone one is null, its password a 409', async () => {
      const half = (await sut.insertCreating({ ...app, passwordEncrypted: 'sealed-1' }))!;

      expect(await sut.findById(half.id)).toMatchObject({ user: 'app', status: 'creating' });
      expect(await sut.sealedPassword(half.id)).toBe('sealed-1');
      await sut.delete(half.id);
      expect(await sut.findById(half.id)).toBeNull();
      await expect(sut.sealedPassword(half.id)).rejects.toThrow(`credential ${half.id} is gone.`);
    });

    it("sealedOfDatabase: a database's credentials with their sealed passwords, in a state if asked", async () => {
      await ready('app');
      const reset = await ready('ro', 'read-only');
      await sut.transition(reset, 'ready', 'resetting', { passwordEncrypted: 'sealed-new' });
      await otherDatabaseWith('clerk', 'resetting');

      const of = async (status?: 'resetting') =>
        (await sut.sealedOfDatabase(1, status)).map((c) => `${c.user} ${c.passwordEncrypted}`);
      expect(await of()).toEqual(['app sealed-app', 'ro sealed-new']);
      expect(await of('resetting')).toEqual(['ro sealed-new']);
    });

    it('readyOfDatabases: the ready credentials of the databases given, nothing for none', async () => {
      await ready('app');
      await sut.insertCreating({ ...app, user: 'half', passwordEncrypted: 'h' });
      await otherDatabaseWith('clerk');

      const users = async (ids: number[]) => (await sut.readyOfDatabases(ids)).map((c) => c.user);
      expect(await users([1])).toEqual(['app']);
      expect((await users([1, 2])).sort()).toEqual(['app', 'clerk']);
      // (toEqual would take [undefined], a bogus row's user, for [].)
      expect(await sut.readyOfDatabases([])).toStrictEqual([]);
    });

    it('isUserTaken and countOtherOwners: per infra, and live owners other than the one given', async () => {
      const first = await ready('app');
      await ready('ro', 'read-only');
      const going = await ready('old_owner');
      await sut.transition(going, 'ready', 'deleting');

      expect(await sut.isUserTaken(1, 'app')).toBe(true);
      expect(await sut.isUserTaken(2, 'app')).toBe(false);
      expect(await sut.countOtherOwners(1, first)).toBe(0);
      const second = await ready('app2');
      expect(await sut.countOtherOwners(1, first)).toBe(1);
      expect(await sut.countOtherOwners(1, second)).toBe(1);
    });

    it("findDatabase and maxConnectionsOf: the database with its plan's limit; none for an unknown one", async () => {
      expect(await sut.findDatabase(1)).toMatchObject({ maxConnections: 0, overSizeLimit: false });
      await store.store.query(
        'UPDATE plan SET max_connections = 6; UPDATE database SET over_size_limit = true',
      );

      expect(await sut.findDatabase(1)).toEqual({
        id: 1,
        name: 'orders',
        status: 'ready',
        infraId: 1,
        environmentId: 1,
        teamId: 1,
        maxConnections: 6,
        overSizeLimit: true,
      });
      expect(await sut.maxConnectionsOf(1)).toBe(6);
      expect(await sut.findDatabase(9)).toBeNull();
      expect(await sut.maxConnectionsOf(9)).toBe(0);
    });
  });

  it('claimOnInfra: every credential of the database moves to the infra; a name taken there is a 409, nothing moved', async () => {
    await sut.insertCreating({ ...app, passwordEncrypted: 'a' });
    await sut.insertCreating({ ...app, user: 'ro', passwordEncrypted: 'b' });
    await store.store.query(
      `INSERT INTO database (name, plan_id, environment_id, infra_id, team_id, status)
       VALUES ('ledger', 1, 1, 2, 1, 'ready')`,
    );
    await sut.insertCreating({
      ...app,
      user: 'ro',
      databaseId: 2,
      infraId: 2,
      passwordEncrypted: 'c',
    });
    const infras = async (databaseId: number) =>
      (await sut.ofDatabase(databaseId)).map((c) => c.infraId);

    const refused = sut.claimOnInfra(1, 2);
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toThrow('A credential with that name already exists.');
    expect(await infras(1)).toEqual([1, 1]);

    await store.store.query(`DELETE FROM credential WHERE database_id = 2`);
    await sut.claimOnInfra(1, 2);
    expect(await infras(1)).toEqual([2, 2]);
    expect((await sut.usersOfOtherDatabases(2, 2)).sort()).toEqual(['app', 'ro']);
  });
});
