import { randomBytes } from 'node:crypto';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import {
  ConflictError,
  DomainError,
  EngineUnavailableError,
  faultArmed,
  NotFoundError,
  Page,
  PageRequest,
  skipTake,
  testFault,
} from '@dbaas/core';
import { DatabaseRecord, DatabaseRow, DatabasesService, RecoveryHooks } from '@dbaas/databases';
import { ConnectedInfra, DumpTool, InfraAccess } from '@dbaas/engines';
import {
  databaseLockKey,
  OperationRunner,
  TaskHistory,
  TaskRecord,
  TaskSubject,
} from '@dbaas/operations';
import { BackupKind, TaskType } from '@dbaas/persistence';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BackupFailedError, BackupFileNotFoundError } from './backup-errors';
import { BackupFiles } from './backup-files';
import {
  BackupFilter,
  BackupRecord,
  BackupRepository,
  UnfinishedBackup,
} from './backup.repository';

/**
 * The engine's dump tool for an infra. The one place the backups reach the tools: they live
 * behind the engine provider (`provider.dumpTool`, libs/engines).
 */
export function dumpToolOf(connected: ConnectedInfra): DumpTool {
  return connected.provider.dumpTool;
}

/** How often a running backup records the bytes it has stored so far (`size_in_bytes`). */
export const PROGRESS_EVERY_MS = 2000;

/** A `running` backup without a task this old was never begun (the process died first). */
const NO_TASK_AFTER_MS = 60_000;

/** A backup file's key: `<environment>/<database>/<random id>-<kind>.dump` (storage-key.ts). */
export function backupFileKey(environmentId: number, databaseName: string, kind: BackupKind) {
  return `${environmentId}/${databaseName}/${randomBytes(8).toString('hex')}-${kind}.dump`;
}

/** A backup's delete runs under this lock (its database's may be held by a long backup). */
export function backupLockKey(id: number): string {
  return `backup:${id}`;
}

/**
 * What a backup's `error` and its task say of a failure: the message of the errors that
 * are written to be shown (domain errors, a tool's stderr with the passwords redacted, a
 * corrupt or missing file, a refused connection), otherwise a generic sentence (the cause
 * goes to the server log).
 */
export function describeFailure(error: unknown): string {
  if (
    error instanceof DomainError ||
    (error instanceof Error &&
      ['BackupToolError', 'BackupCorruptError', 'EngineCommandError'].includes(error.name))
  )
    return error.message.slice(0, 1000);
  if (error instanceof BackupFileNotFoundError) return 'The backup file is missing.';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
    return `The engine server could not be reached (${code}).`;
  return 'Internal error; see the server log.';
}

/**
 * Backups of databases (SPEC §9), each a task in the operation frame under its database's
 * lock: take one (`start` for the API and the scheduler, `takeHeld` inside an operation
 * that holds the lock), restore one in place, delete one; and the recovery of what a dead
 * process left (registered with the lifecycle reconciler, RecoveryHooks).
 *
 * States: a backup is `running` → `ready` | `failed` → `deleting` → (gone); a database
 * being restored is `ready` → `restoring_backup` → `ready`.
 */
@Injectable()
export class BackupsService implements OnModuleInit {
  private readonly logger = new Logger('Backups');

  constructor(
    private readonly backups: BackupRepository,
    private readonly files: BackupFiles,
    private readonly databases: DatabasesService,
    private readonly infras: InfraAccess,
    private readonly runner: OperationRunner,
    private readonly history: TaskHistory,
    private readonly policy: AccessPolicy,
    private readonly hooks: RecoveryHooks,
  ) {}

  onModuleInit(): void {
    this.hooks.finishBackupRestore = (database) => this.finishRestore(database);
    this.hooks.afterRound.push(async () => void (await this.recoverUnfinished()));
  }

  // --- taking a backup ----------------------------------------------------------------

  /**
   * POST /api/database/{id}/backup/ and the scheduler: checks the database (409 unless
   * `ready`; 503 when its engine does not answer, before anything is written), records a
   * `running` backup and begins its task; returns at once (202). `done` settles with the
   * finished backup (`ready`), or rejects once it is `failed`. null: a scheduled backup of
   * that day exists already (another process took it).
   */
  async start(
    database: DatabaseRecord,
    kind: BackupKind,
    userId: number | null,
    options: { scheduledFor?: string } = {},
  ): Promise<{ backup: BackupRecord; done: Promise<BackupRecord> } | null> {
    this.assertReady(database, 'backed up');
    await this.databases.ensureReachable(database);
    const backup = await this.insert(database, kind, options.scheduledFor);
    if (!backup) return null;
    let begun;
    try {
      begun = await this.runner.begin(
        this.subject('backup_database', database, userId),
        databaseLockKey(database.environmentId, database.name),
        async (task) => {
          // The database as it is now that the lock is held.
          const current = await this.databases.find(database.id);
          if (!current || current.status !== 'ready') {
            const why = `The database is ${current?.status ?? 'gone'}; only a ready database can be backed up.`;
            await this.fail(backup, why);
            throw new ConflictError(why);
          }
          return this.dump(current, backup, task);
        },
      );
    } catch (error) {
      await this.fail(backup, describeFailure(error)).catch(() => undefined);
      throw error;
    }
    await this.backups.setTask(backup.id, begun.task.id);
    return { backup: { ...backup, taskId: begun.task.id }, done: begun.done };
  }

  /**
   * The same work when the caller already holds the database's lock (the final backup of
   * a hard delete): records a `running` backup, dumps, stores, marks it `ready` or
   * `failed`; throws on failure (BackupFailedError, EngineUnavailableError).
   */
  async takeHeld(
    database: DatabaseRecord,
    kind: BackupKind,
    userId: number | null,
    task?: TaskRecord,
  ): Promise<BackupRecord> {
    void userId; // the caller's task names the user
    const backup = await this.insert(database, kind);
    if (!backup) throw new ConflictError('A backup of this database is already recorded.');
    if (task) await this.backups.setTask(backup.id, task.id);
    return this.dump(database, backup, task);
  }

  /**
   * Dumps the database into the backup's file (its lock is held): `ready` with size,
   * SHA-256 and expiry, or `failed` with no file and the reason.
   */
  private async dump(
    database: DatabaseRecord,
    backup: BackupRecord,
    task?: TaskRecord,
  ): Promise<BackupRecord> {
    void task;
    const started = Date.now();
    const progress = new Progress((bytes) => this.backups.setProgress(backup.id, bytes));
    try {
      const connected = await this.reach(database);
      const tool = dumpToolOf(connected);
      const saved = await this.files.save(
        backup.fileKey,
        (out) => {
          const fault = new FaultAfterFirstBytes('backup-dumping', database.name);
          const piping = pipeline(fault, out);
          return Promise.all([tool.dump(connected.target, database.name, fault), piping]).then(
            () => undefined,
          );
        },
        (bytes) => progress.report(bytes),
        PROGRESS_EVERY_MS,
      );
      await progress.settled();
      const expiresAt = await this.expiry(backup);
      await this.backups.transition(backup.id, 'running', 'ready', { ...saved, expiresAt });
      this.logger.log(
        `Backup ${backup.id} of ${database.name}: ${saved.sizeInBytes} bytes in ${since(started)}`,
      );
      return (await this.backups.find(backup.id)) as BackupRecord;
    } catch (error) {
      await progress.settled();
      const why = describeFailure(error);
      this.logger.warn(`Backup ${backup.id} of ${database.name} failed: ${why}`);
      if (why.startsWith('Internal error')) this.logger.error(error);
      // BackupFiles.save left no file; a failure after it (the store) may have.
      await this.files.remove(backup.fileKey).catch(() => undefined);
      await this.fail(backup, why).catch((markError: Error) =>
        this.logger.warn(`Backup ${backup.id} stays running: ${markError.message}`),
      );
      if (error instanceof EngineUnavailableError || error instanceof ConflictError) throw error;
      throw new BackupFailedError(`The backup failed: ${why}`);
    }
  }

  // --- reading --------------------------------------------------------------------------

  /** One page of the backups the viewer may see (their teams'; a dba every one), newest first. */
  list(
    page: PageRequest,
    viewer: AuthenticatedUser,
    filter: BackupFilter,
  ): Promise<Page<BackupRecord>> {
    const { skip, take } = skipTake(page);
    return this.backups.page(this.policy.teamScope(viewer), filter, skip, take);
  }

  /** One backup the viewer may see (their teams'; a dba every one), or 404. */
  async findVisible(id: number, viewer: AuthenticatedUser): Promise<BackupRecord> {
    const backup = await this.backups.find(id);
    if (!backup || !this.policy.canSeeTeam(viewer, backup.teamId))
      throw new NotFoundError('backup', id);
    return backup;
  }

  /** A ready backup the viewer may see, or 404 / 409. */
  async findUsable(id: number, viewer: AuthenticatedUser): Promise<BackupRecord> {
    const backup = await this.findVisible(id, viewer);
    if (backup.status !== 'ready')
      throw new ConflictError(`The backup is ${backup.status}; only a ready backup can be used.`);
    return backup;
  }

  /**
   * The plaintext dump of a ready backup as a stream (BackupFiles.open with its SHA-256):
   * it fails with BackupCorruptError when the file does not check out.
   */
  async open(backup: BackupRecord): Promise<Readable> {
    if (backup.status !== 'ready' || !backup.sha256)
      throw new ConflictError(`The backup is ${backup.status}; only a ready backup can be used.`);
    return this.files.open(backup.fileKey, backup.sha256);
  }

  // --- restore in place ------------------------------------------------------------------

  /**
   * POST /api/backup/{id}/restore/: the database becomes exactly the backup's data, in
   * place, under its lock (202: returns the task at once). 404 for a backup or database the
   * viewer may not see; 409 unless both are `ready`; 503 when the engine does not answer.
   */
  async restore(
    id: number,
    viewer: AuthenticatedUser,
  ): Promise<{ task: TaskRecord; done: Promise<void> }> {
    const backup = await this.findUsable(id, viewer);
    if (backup.databaseId === null)
      throw new ConflictError(
        'The database of this backup is gone; create a new one from it (from_backup).',
      );
    const database = await this.databases.findVisible(backup.databaseId, viewer);
    this.assertReady(database, 'restored');
    if (backup.restoringDatabaseId !== null)
      throw new ConflictError('The backup is being restored already.');
    await this.databases.ensureReachable(database);
    return this.runner.begin(
      this.subject('restore_backup', database, viewer.id),
      databaseLockKey(database.environmentId, database.name),
      async () => {
        const current = await this.databases.find(database.id);
        const file = await this.backups.find(backup.id);
        if (!current || current.status !== 'ready')
          throw new ConflictError(`The database is ${current?.status ?? 'gone'}.`);
        if (!file || file.status !== 'ready')
          throw new ConflictError(`The backup is ${file?.status ?? 'gone'}.`);
        await this.restoreInPlace(current, file);
      },
    );
  }

  /**
   * The restore itself, the database's lock held, both `ready`:
   * 1. the whole file is checked (its SHA-256 and its key) before anything changes: a
   *    tampered or replaced file fails here and the database is untouched;
   * 2. the database goes `restoring_backup`, and the backup names it (restoring_database_id)
   *    so that a crash leaves the reconciler what it needs, and the file cannot be deleted;
   * 3. the engine's tool replaces the data (ending the database's sessions);
   * 4. the backup lets go of the database, which goes back to `ready`.
   * A failure in 3 on an engine whose restore is atomic (PostgreSQL) changed nothing: the
   * database goes back to `ready`. On the others the database may be half restored: it
   * stays `restoring_backup` and the reconciler runs the restore again (every minute) until
   * it is whole.
   */
  private async restoreInPlace(database: DatabaseRecord, backup: BackupRecord): Promise<void> {
    const started = Date.now();
    const connected = await this.reach(database);
    // The whole file first (its SHA-256 and key; cheap: nothing is decrypted). A restore that
    // is not atomic would be left half restored by a bad file, with no good file to finish
    // from; an atomic one (PostgreSQL) may commit before it read the file's tail.
    await this.files.verify(backup.fileKey, backup.sha256!).catch((error: unknown) => {
      throw new BackupFailedError(`The restore did not start: ${describeFailure(error)}`);
    });
    const checked = since(started);
    await this.databases.transition(database, 'restoring_backup');
    if (!(await this.backups.markRestoring(backup.id, database.id))) {
      await this.databases.transition(database, 'ready');
      throw new ConflictError('The backup is being deleted or restored elsewhere.');
    }
    try {
      await this.runRestore(connected, database, backup);
    } catch (error) {
      const why = describeFailure(error);
      if (dumpToolOf(connected).atomicRestore) {
        await this.backups.unmarkRestoring(database.id);
        await this.databases.transition(database, 'ready');
        throw new BackupFailedError(`The restore failed; the database is unchanged: ${why}`);
      }
      throw new BackupFailedError(
        `The restore failed; the database stays restoring_backup and the reconciler runs it again: ${why}`,
      );
    }
    await this.backups.unmarkRestoring(database.id);
    await this.databases.transition(database, 'ready');
    this.logger.log(
      `Backup ${backup.id} restored into ${database.name} in ${since(started)} (${checked} of them reaching the engine and checking the file)`,
    );
  }

  /** Streams the backup's plaintext into the engine's restore tool. */
  private async runRestore(
    connected: ConnectedInfra,
    database: DatabaseRow,
    backup: BackupRecord,
  ): Promise<void> {
    const plaintext = await this.files.open(backup.fileKey, backup.sha256!);
    const fault = new FaultAfterFirstBytes('backup-restoring', database.name);
    plaintext.on('error', (error) => fault.destroy(error));
    plaintext.pipe(fault);
    await dumpToolOf(connected).restore(connected.target, database.name, fault);
  }

  /**
   * The reconciler's step for a `restoring_backup` database (its lock held): the restore
   * is run again from the same file, to its end. No backup names the database: the crash
   * came before the restore began or after it ended; either way the data is whole.
   */
  private async finishRestore(database: DatabaseRow): Promise<void> {
    const backup = await this.backups.restoringInto(database.id);
    if (backup) {
      const connected = await this.infras.connect(database.infraId);
      await connected.provider.ping(connected.target);
      await this.files.verify(backup.fileKey, backup.sha256!);
      await this.runRestore(connected, database, backup);
      await this.backups.unmarkRestoring(database.id);
      this.logger.log(
        `Finished the interrupted restore of backup ${backup.id} into ${database.name}`,
      );
    }
    await this.databases.transition(database, 'ready');
  }

  // --- delete -----------------------------------------------------------------------------

  /**
   * DELETE /api/backup/{id}/ (and expiry): `ready`/`failed` → `deleting`, the file goes,
   * then the row; as a task (`delete_backup`). 404 for the viewer; 409 while it is running,
   * being deleted or being restored. Waits for the end (204).
   */
  async delete(id: number, viewer: AuthenticatedUser | null): Promise<void> {
    const backup = viewer ? await this.findVisible(id, viewer) : await this.backups.find(id);
    if (!backup) throw new NotFoundError('backup', id);
    if (backup.status !== 'ready' && backup.status !== 'failed')
      throw new ConflictError(`The backup is ${backup.status}.`);
    if (backup.restoringDatabaseId !== null)
      throw new ConflictError('The backup is being restored.');
    await this.runner.run(
      {
        type: 'delete_backup',
        userId: viewer?.id ?? null,
        databaseId: backup.databaseId,
        databaseName: backup.databaseName,
        teamId: backup.teamId,
      },
      backupLockKey(id),
      async (task) => {
        if (!(await this.backups.markDeleting(id)))
          throw new ConflictError('The backup is being restored, deleted or is gone.');
        await this.backups.setTask(id, task.id);
        await this.removeDeleting(id, backup.fileKey);
      },
    );
  }

  private async removeDeleting(id: number, fileKey: string): Promise<void> {
    await this.files.remove(fileKey);
    await this.backups.delete(id);
  }

  // --- recovery ---------------------------------------------------------------------------

  /**
   * After each reconciler round: backups a dead process left `running` are marked
   * `failed` and whatever was written under their key removed; backups left `deleting`
   * are deleted. A backup is left alone while its task is open in a live process, or its
   * database's (delete: its own) lock is held.
   */
  async recoverUnfinished(): Promise<number> {
    const unfinished = await this.backups.unfinished();
    if (!unfinished.length) return 0;
    const interrupted = new Set((await this.history.interrupted()).map((task) => task.id));
    let recovered = 0;
    for (const backup of unfinished.filter((b) => this.abandoned(b, interrupted))) {
      const key =
        backup.status === 'running'
          ? databaseLockKey(backup.environmentId, backup.databaseName)
          : backupLockKey(backup.id);
      const done = await this.runner.runIfFree(key, async () => {
        const current = await this.backups.find(backup.id);
        if (current?.status === 'running') {
          await this.files.remove(current.fileKey);
          await this.backups.transition(current.id, 'running', 'failed', {
            error: 'Interrupted: the API process ended during the backup; no file is kept.',
          });
        } else if (current?.status === 'deleting') {
          await this.removeDeleting(current.id, current.fileKey);
        }
        return true;
      });
      if (done) recovered++;
    }
    if (recovered) this.logger.log(`Recovered ${recovered} backup(s) left unfinished`);
    return recovered;
  }

  private abandoned(backup: UnfinishedBackup, interrupted: Set<number>): boolean {
    if (backup.taskId === null || backup.taskStatus === null)
      return Date.now() - backup.createdAt.getTime() > NO_TASK_AFTER_MS;
    return (
      backup.taskStatus === 'success' ||
      backup.taskStatus === 'error' ||
      interrupted.has(backup.taskId)
    );
  }

  // --- helpers ----------------------------------------------------------------------------

  private assertReady(database: DatabaseRow, what: string): void {
    if (database.status !== 'ready')
      throw new ConflictError(
        `The database is ${database.status}; only a ready database can be ${what}.`,
      );
  }

  /** The infra, after a ping: EngineUnavailableError (503) when the engine does not answer. */
  private async reach(database: Pick<DatabaseRow, 'infraId'>): Promise<ConnectedInfra> {
    const connected = await this.infras.connect(database.infraId);
    await connected.provider.ping(connected.target);
    return connected;
  }

  private insert(
    database: DatabaseRecord,
    kind: BackupKind,
    scheduledFor?: string,
  ): Promise<BackupRecord | null> {
    return this.backups.insertRunning({
      databaseId: database.id,
      databaseName: database.name,
      engineType: database.engineType,
      environmentId: database.environmentId,
      planId: database.planId,
      teamId: database.teamId,
      kind,
      fileKey: backupFileKey(database.environmentId, database.name, kind),
      scheduledFor: scheduledFor ?? null,
    });
  }

  private async fail(backup: BackupRecord, error: string): Promise<void> {
    await this.backups.transition(backup.id, 'running', 'failed', { error });
  }

  /**
   * Manual backups are kept until deleted; scheduled and final ones for the plan's
   * retention from now (0 days: expired at once).
   */
  private async expiry(backup: BackupRecord): Promise<Date | null> {
    if (backup.kind === 'manual' || backup.planId === null) return null;
    const days = (await this.backups.planRetentionDays(backup.planId)) ?? 0;
    return new Date(Date.now() + days * 86_400_000);
  }

  private subject(type: TaskType, database: DatabaseRow, userId: number | null): TaskSubject {
    return {
      type,
      userId,
      databaseId: database.id,
      databaseName: database.name,
      teamId: database.teamId,
    };
  }
}

/** Seconds since `started` (a Date.now()), for the log: `2.41 s`. */
function since(started: number): string {
  return `${((Date.now() - started) / 1000).toFixed(2)} s`;
}

/**
 * Records a running backup's progress without piling up writes: one at a time, the latest
 * count wins.
 */
class Progress {
  private writing: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(private readonly write: (bytes: number) => Promise<void>) {}

  report(bytes: number): void {
    if (this.busy) return;
    this.busy = true;
    this.writing = this.write(bytes)
      .catch(() => undefined)
      .finally(() => (this.busy = false));
  }

  settled(): Promise<void> {
    return this.writing;
  }
}

/**
 * Passes bytes through. TEST ONLY: when the fault point `step` is armed for the database
 * (faultArmed), it passes half of the first chunk, and the process stops 300 ms later (time
 * for those bytes to reach the file or the tool), so that a backup or a restore is killed
 * in its middle, never after its end.
 */
class FaultAfterFirstBytes extends Transform {
  private armed: boolean;

  constructor(
    private readonly step: 'backup-dumping' | 'backup-restoring',
    private readonly database: string,
  ) {
    super();
    this.armed = faultArmed(step, database);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.armed) return done(null, chunk);
    // Half of the first chunk only: the other side can never see a whole dump.
    this.push(chunk.subarray(0, Math.ceil(chunk.length / 2)));
    setTimeout(() => testFault(this.step, this.database), 300);
  }
}
