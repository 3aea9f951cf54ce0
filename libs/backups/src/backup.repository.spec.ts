import { IllegalTransitionError } from '@dbaas/core';
import { BackupEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { BackupRepository, NewBackup } from './backup.repository';

/** Medium test: the `backup` table's repository on a real PostgreSQL store. */
describe('BackupRepository on a real PostgreSQL store', () => {
  let store: TestStore;
  let sut: BackupRepository;

  beforeAll(async () => {
    store = await startStore();
    sut = new BackupRepository(store.store.getRepository(BackupEntity));
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

  let files = 0;
  const backup = (extra: Partial<NewBackup> = {}): NewBackup => ({
    databaseId: 1,
    databaseName: 'orders',
    engineType: 'postgresql',
    environmentId: 1,
    planId: 1,
    teamId: 1,
    kind: 'manual',
    fileKey: `file-${++files}`,
    ...extra,
  });

  it('insertRunning writes a running backup; a scheduled one is taken once per day', async () => {
    const manual = await sut.insertRunning(backup());
    expect(manual).toMatchObject({ status: 'running', kind: 'manual', sizeInBytes: null });
    const day = { kind: 'scheduled' as const, scheduledFor: '2026-11-29' };
    expect(await sut.insertRunning(backup(day))).toMatchObject({ scheduledFor: '2026-11-29' });
    expect(await sut.insertRunning(backup(day))).toBeNull();
    expect(await sut.insertRunning(backup({ ...day, scheduledFor: '2026-11-30' }))).not.toBeNull();
  });

  it('transition: ready records size, hash and dates; illegal and stale moves write nothing', async () => {
    const { id } = (await sut.insertRunning(backup()))!;
    await expect(sut.transition(id, 'running', 'deleting')).rejects.toBeInstanceOf(
      IllegalTransitionError,
    );
    const expiresAt = new Date('2026-12-06T00:00:00Z');
    await sut.transition(id, 'running', 'ready', { sizeInBytes: 42, sha256: 'ab', expiresAt });
    expect(await sut.find(id)).toMatchObject({
      status: 'ready',
      sizeInBytes: 42,
      sha256: 'ab',
      expiresAt,
      finishedAt: expect.any(Date),
    });
    await expect(sut.transition(id, 'running', 'failed')).rejects.toThrow(
      `backup ${id} is no longer running.`,
    );
  });

  it('page: newest first, scoped to teams and filtered', async () => {
    const a = (await sut.insertRunning(backup()))!;
    const b = (await sut.insertRunning(backup({ kind: 'final' })))!;
    await sut.transition(a.id, 'running', 'failed', { error: 'engine down' });
    expect((await sut.page(null, {}, 0, 10)).items.map((x) => x.id)).toEqual([b.id, a.id]);
    expect((await sut.page([1], { status: 'failed' }, 0, 10)).items.map((x) => x.id)).toEqual([
      a.id,
    ]);
    expect((await sut.page(null, { kind: 'final' }, 0, 10)).count).toBe(1);
    expect((await sut.page([], {}, 0, 10)).count).toBe(0);
    expect((await sut.page(null, { database: 2 }, 0, 10)).count).toBe(0);
  });

  it('outlives its database: database_id becomes null when the row goes', async () => {
    const { id } = (await sut.insertRunning(backup()))!;
    await store.store.query('DELETE FROM database WHERE id = 1');
    expect(await sut.find(id)).toMatchObject({ databaseId: null, databaseName: 'orders' });
  });

  it('expired: ready and failed backups past their date, not running or deleting ones', async () => {
    const now = new Date('2026-12-01T00:00:00Z');
    const old = (await sut.insertRunning(backup()))!;
    await sut.transition(old.id, 'running', 'ready', {
      sizeInBytes: 1,
      sha256: 'x',
      expiresAt: new Date('2026-11-30T00:00:00Z'),
    });
    const kept = (await sut.insertRunning(backup()))!;
    await sut.transition(kept.id, 'running', 'ready', {
      sizeInBytes: 1,
      sha256: 'x',
      expiresAt: new Date('2026-12-02T00:00:00Z'),
    });
    await sut.insertRunning(backup());
    expect((await sut.expired(now)).map((x) => x.id)).toEqual([old.id]);
    await sut.transition(old.id, 'ready', 'deleting');
    expect(await sut.expired(now)).toEqual([]);
    await sut.delete(old.id);
    expect(await sut.find(old.id)).toBeNull();
  });
});
