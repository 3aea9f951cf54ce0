import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { BackupsService } from '@dbaas/backups';
import { PlanRepository } from '@dbaas/catalog';
import {
  APP_CONFIG,
  AppConfig,
  ConflictError,
  DeletionProtectedError,
  EngineUnavailableError,
  NotFoundError,
} from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { DatabaseRecord, DatabaseRow, DatabasesService } from '@dbaas/databases';
import { InfraAccess } from '@dbaas/engines';
import { databaseLockKey, OperationRunner, TaskRecord } from '@dbaas/operations';
import { TaskType } from '@dbaas/persistence';
import { Inject, Injectable, Logger } from '@nestjs/common';

/** A date as `YYYY-MM-DD` (UTC), the format of quarantine_dt. */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Options of the second DELETE. */
export interface HardDeleteOptions {
  /** `?skip_backup=true`: no final backup (when it keeps failing and the data may go). */
  skipBackup?: boolean;
}

/** A DELETE of a protected database is refused (409; the broker answers 422). */
function refuseProtected(database: Pick<DatabaseRecord, 'isProtected' | 'name'>): void {
  if (database.isProtected) {
    throw new DeletionProtectedError(
      `The database ${database.name} is protected from deletion: set is_protected to false first.`,
    );
  }
}

/**
 * The two-step delete. The first DELETE puts a database in quarantine: every credential
 * loses access on the engine, no data is dropped. A dba may restore it, or DELETE it a
 * second time to remove it for real; after the retention period it is purged. Both the
 * second DELETE and the purge first take a `final` backup (see finalBackup).
 *
 * Each step marks its transient state first (`quarantining`, `restoring`, `deleting`) so
 * that the reconciler can converge it if the process dies in the middle.
 */
@Injectable()
export class QuarantineService {
  private readonly logger = new Logger('Quarantine');

  constructor(
    private readonly databaseService: DatabasesService,
    private readonly credentials: CredentialsService,
    private readonly runner: OperationRunner,
    private readonly policy: AccessPolicy,
    private readonly backups: BackupsService,
    private readonly plans: PlanRepository,
    private readonly infras: InfraAccess,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * DELETE /api/database/{id}/: quarantine a live database, remove a quarantined one.
   * The intent is fixed when the request arrives: a quarantine that finds the database
   * already quarantined (a concurrent DELETE did it) is done, not turned into a delete.
   */
  async delete(
    id: number,
    viewer: AuthenticatedUser,
    options: HardDeleteOptions = {},
  ): Promise<'quarantined' | 'deleted'> {
    const database = await this.databaseService.findVisible(id, viewer);
    // Refused before any task (nothing written), and again under the lock (the answer that counts).
    refuseProtected(database);
    if (database.status === 'quarantined') {
      this.policy.assertDba(viewer, 'delete a quarantined database');
      await this.step('delete_database', database, viewer.id, async (current, reachable, task) => {
        refuseProtected(current);
        await reachable();
        if (!options.skipBackup) await this.finalBackup(current, viewer.id, task);
        await this.databaseService.destroy(current);
      });
      return 'deleted';
    }
    await this.step('quarantine_database', database, viewer.id, async (current, reachable) => {
      if (current.status === 'quarantined') return;
      refuseProtected(current);
      // A lost database (missing on its engine) is deleted the same two-step way: its
      // remaining logins are revoked, and a second DELETE removes the records.
      if (current.status !== 'ready' && current.status !== 'lost')
        throw new ConflictError(`The database is ${current.status}.`);
      await reachable();
      await this.enter(current);
    });
    return 'quarantined';
  }

  /** dba only: access comes back, every credential with a new password. */
  async restore(id: number, viewer: AuthenticatedUser): Promise<void> {
    const database = await this.databaseService.findVisible(id, viewer);
    this.policy.assertDba(viewer, 'restore a database');
    await this.step('restore_database', database, viewer.id, async (current, reachable) => {
      if (current.status !== 'quarantined')
        throw new ConflictError('The database is not in quarantine.');
      await reachable();
      await this.databaseService.transition(current, 'restoring');
      await this.credentials.restoreAll(current, true);
      await this.databaseService.transition(current, 'ready', { quarantineDt: null });
    });
  }

  /**
   * Removes the databases quarantined for at least the retention period. One failure
   * (an engine down) does not stop the others; it is retried on the next run.
   */
  async purge(now = new Date(), onProgress?: (done: number, total: number, name: string) => void) {
    const cutoff = new Date(now.getTime() - this.config.quarantineRetentionDays * 86_400_000);
    const expired = await this.databaseService.quarantinedSince(isoDate(cutoff));
    const result = { purged: [] as string[], kept: [] as string[], failed: [] as string[] };
    for (const [index, database] of expired.entries()) {
      try {
        const purged = await this.step(
          'purge_database',
          database,
          null,
          async (current, _reachable, task) => {
            // Another process may have restored or purged it meanwhile; a database
            // protected while in quarantine (the listing leaves out those protected
            // before) stays there until a dba lifts the protection.
            if (current.status !== 'quarantined' || current.isProtected) return false;
            await this.finalBackup(current, null, task);
            await this.databaseService.destroy(current);
            return true;
          },
          false,
        );
        (purged ? result.purged : result.kept).push(database.name);
      } catch (error) {
        result.failed.push(database.name);
        this.logger.warn(
          `Purge of ${database.name} failed, retried next run: ${(error as Error).message}`,
        );
      }
      onProgress?.(index + 1, expired.length, database.name);
    }
    return result;
  }

  /**
   * Drops the databases the store knows of from their engines (sample-data reset), without
   * final backups: the reset empties the `backup` table, and the sample-data service then
   * removes every backup file.
   */
  async destroyAll(): Promise<void> {
    for (const database of await this.databaseService.all()) {
      await this.step(
        'delete_database',
        database,
        null,
        (current) => this.databaseService.destroy(current),
        false,
      ).catch((error: Error) =>
        this.logger.warn(`Could not drop ${database.name} from its engine: ${error.message}`),
      );
    }
  }

  /**
   * The `final` backup of a hard delete, under the delete's lock, kept for the plan's
   * `backup_retention_days` (0: none is taken). It is taken while the database is
   * quarantined (its logins revoked): the dump uses the infra's admin login. When it fails
   * the delete stops with a 503 and the database stays quarantined as it was (the failed
   * backup is recorded, and removed a day later); unless the engine says the database is
   * not there any more (dropped by hand): then there is nothing to keep, and the delete goes
   * on (else the purge could never remove it).
   */
  private async finalBackup(
    database: DatabaseRecord,
    userId: number | null,
    task: TaskRecord,
  ): Promise<void> {
    const plan = await this.plans.findById(database.planId);
    if (plan?.backupRetentionDays === 0) return;
    try {
      const backup = await this.backups.takeHeld(database, 'final', userId, task);
      if (backup.status !== 'ready') throw new Error(backup.error ?? 'not taken');
    } catch (error) {
      if (!(await this.existsOnEngine(database))) {
        this.logger.warn(`${database.name} is not on its engine: deleted without a final backup`);
        return;
      }
      throw new EngineUnavailableError(
        `The final backup of ${database.name} failed (${(error as Error).message}); ` +
          'the database is still quarantined. Retry, or delete it without a final backup with ?skip_backup=true.',
      );
    }
  }

  /**
   * Whether the engine may still have the database: false only when the engine lists every
   * database (PostgreSQL, MySQL) and this one is not among them, as drift repair decides
   * `lost`. True when it cannot tell (a Redis prefix, MongoDB, an error): the safe answer.
   */
  private async existsOnEngine(database: DatabaseRecord): Promise<boolean> {
    try {
      const { provider, target } = await this.infras.connect(database.infraId);
      if (!provider.listsEveryDatabase) return true;
      return (await provider.listDatabases(target)).includes(database.name);
    } catch {
      return true;
    }
  }

  private async enter(database: DatabaseRecord): Promise<void> {
    await this.databaseService.transition(database, 'quarantining');
    await this.credentials.revokeAll(database);
    await this.databaseService.transition(database, 'quarantined', {
      quarantineDt: isoDate(new Date()),
    });
  }

  /**
   * One step as a task, under the database's lock, on the row as it is once the lock is
   * held. `reachable()` answers whether the engine does (a 503 otherwise): the ping is sent
   * while the row is read (`pingEarly`, else when first asked), and the work awaits it
   * before its first change.
   */
  private step<T>(
    type: TaskType,
    database: DatabaseRow,
    userId: number | null,
    work: (current: DatabaseRecord, reachable: () => Promise<void>, task: TaskRecord) => Promise<T>,
    pingEarly = true,
  ): Promise<T> {
    const subject = {
      type,
      userId,
      databaseId: database.id,
      databaseName: database.name,
      teamId: database.teamId,
    };
    return this.runner.run(
      subject,
      databaseLockKey(database.environmentId, database.name),
      async (task) => {
        let ping: Promise<void> | undefined;
        const reachable = () => (ping ??= this.databaseService.ensureReachable(database));
        if (pingEarly) reachable().catch(() => undefined);
        const current = await this.databaseService.find(database.id);
        if (!current) throw new NotFoundError('database', database.id);
        return work(current, reachable, task);
      },
    );
  }
}
