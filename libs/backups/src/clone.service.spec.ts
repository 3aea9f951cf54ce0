import { Readable, Writable } from 'node:stream';
import { AuthenticatedUser } from '@dbaas/auth';
import { ConflictError, EngineUnavailableError } from '@dbaas/core';
import { DatabaseRecord, DatabasesService, SizeLimitCheck, FilledCreate } from '@dbaas/databases';
import { BackupToolError, EngineProvider, InfraAccess, InfraTarget } from '@dbaas/engines';
import { BackupsService } from './backups.service';
import { CloneService, DataCopyError } from './clone.service';

const dba: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [1] };
const target: InfraTarget = {
  id: 2,
  addresses: ['db2:5432'],
  adminUser: 'root',
  adminPassword: 'x',
};

const source = {
  id: 3,
  name: 'shop',
  status: 'ready',
  planId: 1,
  environmentId: 1,
  teamId: 1,
  projectId: null,
  description: 'the shop',
  infraId: 1,
  engineType: 'postgresql',
} as unknown as DatabaseRecord;

/**
 * Small test: CloneService with the databases service and the engines faked. What it
 * asks createFilled for, and what its fill does with a dump and a restore that succeed or
 * fail (the real tools and the rollback are proven in test/e2e/clone-restore.e2e-spec.ts).
 */
describe('CloneService', () => {
  let filled: FilledCreate | undefined;
  let databases: {
    findVisible: jest.Mock;
    find: jest.Mock;
    ensureReachable: jest.Mock;
    createFilled: jest.Mock;
  };
  let dump: jest.Mock<Promise<void>, [InfraTarget, string, Writable]>;
  let restore: jest.Mock<Promise<void>, [InfraTarget, string, Readable, object]>;
  let provider: EngineProvider;
  let sut: CloneService;

  beforeEach(() => {
    filled = undefined;
    databases = {
      findVisible: jest.fn(async () => ({ ...source })),
      find: jest.fn(async () => ({ ...source })),
      ensureReachable: jest.fn(async () => undefined),
      createFilled: jest.fn(async (_input, _viewer, how: FilledCreate) => {
        filled = how;
        return { view: {}, task: { id: 9 }, done: Promise.resolve() };
      }),
    };
    dump = jest.fn();
    restore = jest.fn();
    provider = {
      dumpTool: { atomicRestore: true, dump, restore },
      restoreOwner: (name: string) => `${name}:owner`,
    } as unknown as EngineProvider;
    const infras = {
      connect: jest.fn(async () => ({ provider, target: { ...target, id: 1 } })),
    } as unknown as InfraAccess;
    sut = new CloneService(
      databases as unknown as DatabasesService,
      {} as BackupsService,
      infras,
      {} as SizeLimitCheck,
    );
  });

  /** Reads a stream to its end, or to its error. */
  async function drain(input: Readable): Promise<string> {
    let text = '';
    for await (const chunk of input) text += String(chunk);
    return text;
  }

  it("creates through createFilled with the source's plan, environment, team and engine", async () => {
    await sut.clone(3, { name: 'shop copy' }, dba);

    expect(databases.createFilled).toHaveBeenCalledWith(
      {
        name: 'shop copy',
        plan: 1,
        environment: 1,
        team: 1,
        project: null,
        description: 'the shop',
      },
      dba,
      expect.objectContaining({
        taskType: 'clone_database',
        engineType: 'postgresql',
        origin: 'clone of database 3 (shop)',
      }),
    );
  });

  it("answers the source engine's 503 before anything is created", async () => {
    databases.ensureReachable.mockRejectedValue(
      new EngineUnavailableError('The engine server did not answer.'),
    );

    await expect(sut.clone(3, { name: 'copy' }, dba)).rejects.toBeInstanceOf(
      EngineUnavailableError,
    );
    expect(databases.ensureReachable).toHaveBeenCalledWith(expect.objectContaining({ id: 3 }));
    expect(databases.createFilled).not.toHaveBeenCalled();
  });

  it('refuses a source that is not ready (409) before anything is created', async () => {
    databases.findVisible.mockResolvedValue({ ...source, status: 'quarantined' });

    await expect(sut.clone(3, { name: 'copy' }, dba)).rejects.toThrow(
      new ConflictError('Database shop is quarantined: only a ready database can be cloned.'),
    );
    expect(databases.createFilled).not.toHaveBeenCalled();
  });

  it("streams the source's dump into the restore of the new database, owned by its owner", async () => {
    dump.mockImplementation(async (_t, _db, out) => {
      out.write('part 1 ');
      out.end('part 2');
    });
    let restored = '';
    restore.mockImplementation(async (_t, _db, input) => {
      restored = await drain(input);
    });
    await sut.clone(3, { name: 'copy' }, dba);

    await filled!.fill(target, provider, 'copy');

    expect(dump).toHaveBeenCalledWith({ ...target, id: 1 }, 'shop', expect.anything());
    expect(restore).toHaveBeenCalledWith(target, 'copy', expect.anything(), {
      owner: 'copy:owner',
    });
    expect(restored).toBe('part 1 part 2');
  });

  it('stops the restore when the dump fails mid-way, and says why without engine text', async () => {
    dump.mockImplementation(async (_t, _db, out) => {
      out.write('part 1');
      const error = new EngineUnavailableError('The engine server db1 did not answer.');
      out.destroy(error);
      throw error;
    });
    restore.mockImplementation(async (_t, _db, input) => {
      await drain(input);
    });
    await sut.clone(3, { name: 'copy' }, dba);

    const failure = filled!.fill(target, provider, 'copy');

    await expect(failure).rejects.toThrow(
      new DataCopyError(
        'Copying the data of shop into copy failed (The engine server db1 did not answer.); the new database was rolled back.',
      ),
    );
  });

  it("stops the dump when the restore fails, and keeps the tool's stderr out of the task", async () => {
    let dumpOut: Writable | undefined;
    dump.mockImplementation(async (_t, _db, out) => {
      dumpOut = out;
      await new Promise((resolve) => out.once('close', resolve));
      throw new Error('The dump output was closed before the end');
    });
    restore.mockRejectedValue(
      new BackupToolError('psql exited 3: could not connect to server at 10.0.0.7'),
    );
    await sut.clone(3, { name: 'copy' }, dba);

    const failure = filled!.fill(target, provider, 'copy');

    await expect(failure).rejects.toThrow(
      'Copying the data of shop into copy failed (the engine tool stopped with an error; see the server log); the new database was rolled back.',
    );
    expect(dumpOut!.destroyed).toBe(true);
  });

  it('copies nothing when the source is no longer ready when the fill starts', async () => {
    await sut.clone(3, { name: 'copy' }, dba);
    databases.find.mockResolvedValue({ ...source, status: 'quarantining' });

    await expect(filled!.fill(target, provider, 'copy')).rejects.toThrow(
      'The source database is quarantining: nothing was copied; the clone copy was rolled back.',
    );
    expect(dump).not.toHaveBeenCalled();
    expect(restore).not.toHaveBeenCalled();
  });
});
