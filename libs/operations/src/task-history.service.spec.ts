import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { ConflictError, NotFoundError } from '@dbaas/core';
import { TaskEntity } from '@dbaas/persistence';
import { seedCatalog, startStore, TestStore } from '../../../test/harness/store.harness';
import { withOrigin } from './operation-origin';
import { ProcessIdentity } from './process-identity.service';
import { TaskHistory } from './task-history.service';
import { TaskRepository } from './task.repository';

const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [] };
const dev: AuthenticatedUser = { id: 2, username: 'dev', role: 'regular', teamIds: [1] };
const page = { page: 1, pageSize: 50 };

/** Medium test: the task history on a real PostgreSQL store. */
describe('TaskHistory on a real PostgreSQL store', () => {
  let store: TestStore;
  let me: ProcessIdentity;
  let sut: TaskHistory;

  beforeAll(async () => {
    store = await startStore();
    await seedCatalog(store.store);
    me = await ProcessIdentity.start(store.store);
    sut = new TaskHistory(
      new TaskRepository(store.store.getRepository(TaskEntity)),
      new AccessPolicy(),
      me,
    );
  }, 120_000);
  afterAll(async () => {
    await me?.onApplicationShutdown();
    await store?.destroy();
  }, 120_000);
  beforeEach(() => store.store.query('DELETE FROM task'));

  const row = async (id: number) =>
    (await store.store.getRepository(TaskEntity).findOneByOrFail({ id })) as TaskEntity;

  it('records a task waiting, running, then success, with its times and this process as owner', async () => {
    const task = await sut.open({ type: 'create_database', userId: 2, databaseName: 'orders' });
    expect(task).toMatchObject({ status: 'waiting', owner: me.id, startedAt: null });
    expect(await row(task.id)).toMatchObject({ status: 'waiting', owner: me.id });

    await sut.started(task);
    expect(await row(task.id)).toMatchObject({ status: 'running', startedAt: expect.any(Date) });

    await sut.succeeded(task);
    expect(await row(task.id)).toMatchObject({ status: 'success', endedAt: expect.any(Date) });
  });

  it('does not start a task a reconciler closed while it waited (409), nor end it again', async () => {
    const task = await sut.open({ type: 'create_database', userId: 2 });
    await store.store.query(
      `UPDATE task SET status = 'error', error = 'Interrupted' WHERE id = $1`,
      [task.id],
    );

    await expect(sut.started(task)).rejects.toBeInstanceOf(ConflictError);
    expect(await sut.succeeded(task)).toBe(false);
    expect(await sut.failed(task, new Error('x'))).toBe(false);
    expect(await row(task.id)).toMatchObject({ status: 'error', error: 'Interrupted' });
  });

  it("keeps a domain error's message and hides any other error's text", async () => {
    const one = await sut.open({ type: 'create_database', userId: 2 });
    const two = await sut.open({ type: 'create_database', userId: 2 });

    await sut.failed(one, new ConflictError('The name orders is taken.'));
    await sut.failed(two, new Error('connect to 10.0.0.5 failed, password=hunter2'));

    expect(await row(one.id)).toMatchObject({
      status: 'error',
      error: 'The name orders is taken.',
    });
    expect(await row(two.id)).toMatchObject({
      status: 'error',
      error: 'Internal error; see the server log.',
    });
  });

  it("keeps an engine command's own message too, and cuts any message at 500 characters", async () => {
    const engine = await sut.open({ type: 'create_database', userId: 2 });
    const long = await sut.open({ type: 'create_database', userId: 2 });
    const failure = Object.assign(new Error('database "orders" already exists'), {
      name: 'EngineCommandError',
    });

    await sut.failed(engine, failure);
    await sut.failed(long, new ConflictError('x'.repeat(600)));

    expect((await row(engine.id)).error).toBe('database "orders" already exists');
    expect((await row(long.id)).error).toBe('x'.repeat(500));
    const longEngine = await sut.open({ type: 'create_database', userId: 2 });
    await sut.failed(longEngine, Object.assign(new Error('y'.repeat(600)), failure));
    expect((await row(longEngine.id)).error).toBe('y'.repeat(500));
  });

  it('records the origin given, or else the one of the running operation', async () => {
    const given = await sut.open({ type: 'create_database', userId: 2, origin: 'cli' });
    const inherited = await withOrigin('reconciler: creating', () =>
      sut.open({ type: 'create_database', userId: 2 }),
    );
    const none = await sut.open({ type: 'create_database', userId: 2 });

    expect((await row(given.id)).origin).toBe('cli');
    expect((await row(inherited.id)).origin).toBe('reconciler: creating');
    expect((await row(none.id)).origin).toBeNull();
  });

  it("cuts a running operation's origin at 500 characters (a platform's header is not bounded)", async () => {
    const long = await withOrigin('o'.repeat(600), () =>
      sut.open({ type: 'create_database', userId: 2 }),
    );

    expect((await row(long.id)).origin).toBe('o'.repeat(500));
  });

  it('lists as interrupted the open tasks of ended processes, old owner-less ones, nothing else', async () => {
    const other = await store.open();
    const gone = await ProcessIdentity.start(other);
    const theirs = new TaskHistory(
      new TaskRepository(other.getRepository(TaskEntity)),
      new AccessPolicy(),
      gone,
    );
    const dead = await theirs.open({ type: 'delete_database', userId: 2, databaseId: 5 });
    const deadDone = await theirs.open({ type: 'delete_database', userId: 2 });
    await theirs.started(deadDone);
    await theirs.succeeded(deadDone);
    await gone.onApplicationShutdown();
    await other.destroy();
    const live = await sut.open({ type: 'create_database', userId: 2 });
    await store.store.query(
      `INSERT INTO task (type, status, created_at) VALUES
         ('purge_database', 'running', now() - interval '11 minutes'),
         ('purge_database', 'running', now() - interval '5 minutes')`,
    );

    const interrupted = await sut.interrupted();

    expect(interrupted.map((t) => t.id)).toEqual([dead.id, live.id + 1]);
    expect(interrupted[0]).toEqual({
      id: dead.id,
      type: 'delete_database',
      status: 'waiting',
      databaseId: 5,
      databaseName: null,
    });
    expect(interrupted[1]).toMatchObject({ type: 'purge_database', databaseId: null });
  });

  it('closes an interrupted task only while it is still open', async () => {
    const task = await sut.open({ type: 'delete_database', userId: 2 });
    const interrupted = {
      ...task,
      status: 'waiting' as const,
      databaseId: null,
      databaseName: null,
    };

    await sut.close(interrupted, { status: 'error', error: 'The process ended mid-way.' });
    await sut.close(interrupted, { status: 'success' });

    expect(await row(task.id)).toMatchObject({
      status: 'error',
      error: 'The process ended mid-way.',
    });
  });

  describe('list and get', () => {
    let ids: Record<string, number>;

    beforeEach(async () => {
      const open = async (teamId: number, databaseId: number, type: string) =>
        (await sut.open({ type: type as TaskEntity['type'], userId: 1, teamId, databaseId })).id;
      ids = {
        mine: await open(1, 10, 'create_database'),
        mineDeleted: await open(1, 11, 'delete_database'),
        theirs: await open(2, 20, 'create_database'),
      };
      await sut.started({ id: ids.mine });
      await sut.succeeded({ id: ids.mine });
    });

    it("shows a regular user their teams' tasks only, newest first; a dba all", async () => {
      const mine = await sut.list(page, dev, {});
      expect(mine.items.map((t) => t.id)).toEqual([ids.mineDeleted, ids.mine]);
      expect(mine.count).toBe(2);

      const all = await sut.list(page, dba, {});
      expect(all.items.map((t) => t.id)).toEqual([ids.theirs, ids.mineDeleted, ids.mine]);
    });

    it('filters by database, status and type', async () => {
      const listed = async (filter: object) =>
        (await sut.list(page, dba, filter)).items.map((t) => t.id);

      expect(await listed({ database: 20 })).toEqual([ids.theirs]);
      expect(await listed({ status: 'success' })).toEqual([ids.mine]);
      expect(await listed({ type: 'delete_database' })).toEqual([ids.mineDeleted]);
    });

    it("answers 404 for another team's task, and a user without a team sees none", async () => {
      await expect(sut.get(ids.mine, dev)).resolves.toMatchObject({ id: ids.mine });
      await expect(sut.get(ids.theirs, dev)).rejects.toBeInstanceOf(NotFoundError);
      // A dba sees any team's task.
      await expect(sut.get(ids.theirs, dba)).resolves.toMatchObject({ id: ids.theirs });
      const loner = { ...dev, teamIds: [] };
      expect((await sut.list(page, loner, {})).count).toBe(0);
      await expect(sut.get(ids.mine, loner)).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
