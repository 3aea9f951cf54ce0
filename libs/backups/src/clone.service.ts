import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AuthenticatedUser } from '@dbaas/auth';
import {
  ConflictError,
  DomainError,
  EngineUnavailableError,
  testFault,
  ValidationFailedError,
} from '@dbaas/core';
import {
  AcceptedDatabase,
  DatabaseChanges,
  DatabaseInput,
  DatabasesService,
  MoveEnd,
  SizeLimitCheck,
  UpdatedDatabase,
} from '@dbaas/databases';
import { BackupCorruptError, EngineProvider, InfraAccess, InfraTarget } from '@dbaas/engines';
import { Injectable, Logger } from '@nestjs/common';
import { BackupFileNotFoundError } from './backup-errors';
import { BackupRecord } from './backup.repository';
import { BackupsService } from './backups.service';

/** `POST /api/database/{id}/clone/`: the new name, and a plan and environment if not the source's. */
export interface CloneInput {
  name: string;
  plan?: number;
  environment?: number;
}

/** `POST /api/database/` with `from_backup`: a create whose plan and environment default to the backup's. */
export type FromBackupInput = Omit<DatabaseInput, 'plan' | 'environment'> & {
  fromBackup: number;
  plan?: number;
  environment?: number;
};

/**
 * Copying the data into a new database failed; the new database was rolled back. The
 * message is what its task shows: never a secret, an address or an engine's own text.
 */
export class DataCopyError extends DomainError {}

/**
 * Databases that start with data: a clone of a live database, or a new database from a
 * backup (`from_backup`). Both go through DatabasesService.createFilled, the create's own
 * path (names, 409 for a taken name, plan offered in the environment, placement, quota, a
 * 503 without capacity), with a fill step:
 * - clone: the source's engine dump streamed straight into the restore on the new
 *   database's infra (no file in between; Redis rewrites the key prefix);
 * - from_backup: the backup's file, opened and checked as it is read (BackupsService.open),
 *   restored.
 * Both run as a `clone_database` task (from_backup's origin names the backup); the data
 * belongs to the new database's owner (EngineProvider.restoreOwner), so none of the
 * source's logins reach it.
 */
@Injectable()
export class CloneService {
  private readonly logger = new Logger('Clone');

  constructor(
    private readonly databases: DatabasesService,
    private readonly backups: BackupsService,
    private readonly infras: InfraAccess,
    private readonly sizeLimits: SizeLimitCheck,
  ) {}

  /**
   * A clone of a `ready` database the viewer may see (404 otherwise; 409 unless ready; 503
   * when its engine does not answer).
   */
  async clone(
    sourceId: number,
    input: CloneInput,
    viewer: AuthenticatedUser,
  ): Promise<AcceptedDatabase> {
    const source = await this.databases.findVisible(sourceId, viewer);
    if (source.status !== 'ready') {
      throw new ConflictError(
        `Database ${source.name} is ${source.status}: only a ready database can be cloned.`,
      );
    }
    // The source's engine down: a 503 now, with nothing made (the target's is checked by the claim).
    await this.databases.ensureReachable(source);
    return this.databases.createFilled(
      {
        name: input.name,
        plan: input.plan ?? source.planId,
        environment: input.environment ?? source.environmentId,
        team: source.teamId,
        project: source.projectId,
        description: source.description,
        // Its labels come along; the protection does not (a clone is new, deletable).
        tags: source.tags,
      },
      viewer,
      {
        taskType: 'clone_database',
        engineType: source.engineType,
        source: 'source database',
        origin: `clone of database ${source.id} (${source.name})`,
        fill: (target, provider, name) => this.copyFrom(source.id, target, provider, name),
      },
    );
  }

  /**
   * `PATCH /api/database/{id}/` (and an Open Service Broker update): DatabasesService.update
   * with the copy a plan change needs when the database moves to another infra. A plan
   * changed in place is checked against its new size limit at once, under the same lock,
   * so the answer shows it (a failed check is logged: the periodic one retries).
   */
  update(
    id: number,
    changes: DatabaseChanges,
    viewer: AuthenticatedUser,
  ): Promise<UpdatedDatabase> {
    return this.databases.update(
      id,
      changes,
      viewer,
      (from, to, name) => this.copyForMove(from, to, name),
      (databaseId) => this.sizeLimits.checkLocked(databaseId),
    );
  }

  /** A new database with a backup's data: the backup ready and visible (404 / 409 otherwise). */
  async fromBackup(input: FromBackupInput, viewer: AuthenticatedUser): Promise<AcceptedDatabase> {
    const backup = await this.backups.findUsable(input.fromBackup, viewer);
    const plan = input.plan ?? backup.planId;
    if (plan === null) {
      throw new ValidationFailedError({ plan: ["is required: the backup's plan is gone"] });
    }
    const { fromBackup, ...create } = input;
    void fromBackup;
    return this.databases.createFilled(
      {
        ...create,
        plan,
        environment: input.environment ?? backup.environmentId,
        team: input.team ?? backup.teamId,
      },
      viewer,
      {
        taskType: 'clone_database',
        engineType: backup.engineType,
        source: 'backup',
        origin: `from backup ${backup.id} (${backup.databaseName})`,
        fill: (target, provider, name) => this.restoreFrom(backup, target, provider, name),
      },
    );
  }

  /** The clone's fill: the source, still ready, dumped straight into the new database. */
  private async copyFrom(
    sourceId: number,
    target: InfraTarget,
    provider: EngineProvider,
    name: string,
  ): Promise<void> {
    const source = await this.databases.find(sourceId);
    if (!source || source.status !== 'ready') {
      throw new DataCopyError(
        `The source database is ${source?.status ?? 'gone'}: nothing was copied; the clone ${name} was rolled back.`,
      );
    }
    const from = await this.infras.connect(source.infraId);
    await this.fill(
      `Copying the data of ${source.name} into ${name}`,
      (out) => from.provider.dumpTool.dump(from.target, source.name, out),
      (input) => restoreInto(target, provider, name, input),
    );
  }

  /**
   * A move's copy: the source's dump straight into the restore on the target, under the
   * same name (the fault point `move-copying` sits on its first chunk).
   */
  private async copyForMove(from: MoveEnd, to: MoveEnd, name: string): Promise<void> {
    await this.fill(
      `Copying the data of ${name} to the new plan's engine server`,
      (out) => from.provider.dumpTool.dump(from.target, name, out),
      (input) => restoreInto(to.target, to.provider, name, faultOnFirstChunk(input, name)),
      'the move was rolled back; the database stays where it was',
    );
  }

  /** from_backup's fill: the backup's file, checked as it is read, restored. */
  private async restoreFrom(
    backup: BackupRecord,
    target: InfraTarget,
    provider: EngineProvider,
    name: string,
  ): Promise<void> {
    await this.fill(
      `Restoring backup ${backup.id} into ${name}`,
      async (out) => pipeline(await this.backups.open(backup), out),
      (input) => restoreInto(target, provider, name, input),
    );
  }

  /**
   * Runs `produce` (writing the data) and `consume` (reading it) on one stream, so nothing
   * is kept in between. The first to fail stops the other; its error is the cause, turned
   * into a DataCopyError that says what failed without engine text.
   */
  private async fill(
    what: string,
    produce: (out: Writable) => Promise<void>,
    consume: (input: Readable) => Promise<void>,
    undone = 'the new database was rolled back',
  ): Promise<void> {
    const pipe = new PassThrough();
    pipe.on('error', () => undefined);
    let cause: unknown;
    const first = (work: Promise<void>) =>
      work.catch((error: unknown) => {
        cause ??= error;
        pipe.destroy(error as Error);
      });
    await Promise.all([first(produce(pipe)), first(consume(pipe))]);
    if (cause === undefined) return;
    this.logger.warn(`${what} failed: ${cause instanceof Error ? cause.message : 'unknown error'}`);
    throw new DataCopyError(`${what} failed (${reasonOf(cause)}); ${undone}.`);
  }
}

/** The one call into the engines' restore (see DumpTool): the data owned by the new database. */
function restoreInto(
  target: InfraTarget,
  provider: EngineProvider,
  name: string,
  input: Readable,
): Promise<void> {
  const owner = provider.restoreOwner(name);
  return provider.dumpTool.restore(target, name, input, owner ? { owner } : {});
}

/** The stream as it is, with the test-only fault point `move-copying` on its first chunk. */
function faultOnFirstChunk(input: Readable, name: string): Readable {
  let first = true;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        if (first) testFault('move-copying', name);
        first = false;
        done(null, chunk);
      } catch (error) {
        done(error as Error);
      }
    },
  });
  input.on('error', (error) => tap.destroy(error));
  tap.on('error', (error) => input.destroy(error));
  return input.pipe(tap);
}

/** Why a fill failed, as a task may say it: no engine text, no address. */
function reasonOf(error: unknown): string {
  if (error instanceof BackupCorruptError) return `the backup file is corrupt: ${error.message}`;
  if (error instanceof BackupFileNotFoundError) return 'the backup file is missing';
  if (error instanceof EngineUnavailableError) return error.message;
  if (error instanceof DataCopyError || error instanceof ConflictError) return error.message;
  if (error instanceof Error && error.name === 'TestFaultError') return error.message;
  if (error instanceof Error && error.name === 'BackupToolError')
    return 'the engine tool stopped with an error; see the server log';
  return 'an engine stopped answering or refused the data; see the server log';
}
