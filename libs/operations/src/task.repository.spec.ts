import { TaskEntity } from '@dbaas/persistence';
import { startStore, TestStore } from '../../../test/harness/store.harness';
import { TaskRepository } from './task.repository';

/**
 * Medium test: the marks of an operation's frame on a real PostgreSQL store. Each moves a
 * task only from the status it expects (waiting → running → success or error), so a task
 * that a reconciler of another process closed meanwhile stays as that reconciler left it.
 */
describe('TaskRepository marks on a real PostgreSQL store', () => {
  let store: TestStore;
  let sut: TaskRepository;

  beforeAll(async () => {
    store = await startStore();
    sut = new TaskRepository(store.store.getRepository(TaskEntity));
  }, 120_000);
  afterAll(() => store?.destroy(), 120_000);
  beforeEach(() => store.store.query('DELETE FROM task'));

  const open = () =>
    sut.insertWaiting({
      type: 'create_database',
      userId: null,
      databaseId: null,
      databaseName: 'orders',
      teamId: null,
      origin: null,
      owner: 1,
    });

  /** The task's row as `status error started? ended?`. */
  async function row(id: number): Promise<string> {
    const [task] = (await store.store.query(
      'SELECT status, error, started_at, ended_at FROM task WHERE id = $1',
      [id],
    )) as { status: string; error: string | null; started_at: Date; ended_at: Date }[];
    return `${task.status} ${task.error} started ${task.started_at !== null} ended ${task.ended_at !== null}`;
  }

  it('moves a task waiting → running → success, and says so', async () => {
    const task = await open();
    expect(await sut.markRunning(task.id)).toBe(true);
    expect(await row(task.id)).toBe('running null started true ended false');
    expect(await sut.markSucceeded(task.id)).toBe(true);
    expect(await row(task.id)).toBe('success null started true ended true');
  });

  it('fails a running task, and a waiting one (its lock could not be taken)', async () => {
    const running = await open();
    await sut.markRunning(running.id);
    expect(await sut.markFailed(running.id, 'engine refused')).toBe(true);
    expect(await row(running.id)).toBe('error engine refused started true ended true');

    const waiting = await open();
    expect(await sut.markFailed(waiting.id, 'store down')).toBe(true);
    expect(await row(waiting.id)).toBe('error store down started false ended true');
  });

  it('does not reopen a task a reconciler closed while it waited', async () => {
    const task = await open();
    await sut.closeIfOpen(task.id, 'error', 'Interrupted');

    expect(await sut.markRunning(task.id)).toBe(false);
    expect(await row(task.id)).toBe('error Interrupted started false ended true');
  });

  it('does not turn a task a reconciler closed as error into a success, nor the reverse', async () => {
    const failed = await open();
    await sut.markRunning(failed.id);
    await sut.closeIfOpen(failed.id, 'error', 'Interrupted');
    expect(await sut.markSucceeded(failed.id)).toBe(false);
    expect(await row(failed.id)).toBe('error Interrupted started true ended true');

    const succeeded = await open();
    await sut.markRunning(succeeded.id);
    await sut.closeIfOpen(succeeded.id, 'success', null);
    expect(await sut.markFailed(succeeded.id, 'engine refused')).toBe(false);
    expect(await row(succeeded.id)).toBe('success null started true ended true');
  });

  it('does not mark a task that never started as a success, nor start an ended one again', async () => {
    const waiting = await open();
    expect(await sut.markSucceeded(waiting.id)).toBe(false);
    expect(await row(waiting.id)).toBe('waiting null started false ended false');

    const done = await open();
    await sut.markRunning(done.id);
    await sut.markSucceeded(done.id);
    expect(await sut.markRunning(done.id)).toBe(false);
    expect(await row(done.id)).toBe('success null started true ended true');
  });

  it("linkDatabase: a create's task learns its database's id once the row is written", async () => {
    const task = await open();
    await sut.linkDatabase(task.id, 7);

    const [found] = (await store.store.query('SELECT database_id FROM task WHERE id = $1', [
      task.id,
    ])) as { database_id: number }[];
    expect(found.database_id).toBe(7);
  });
});
