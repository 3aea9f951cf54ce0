import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import {
  APP_CONFIG,
  AppConfig,
  ConflictError,
  DeletionProtectedError,
  NotFoundError,
} from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { DatabaseRecord, DatabaseRow, DatabasesService } from '@dbaas/databases';
import { databaseLockKey, OperationRunner } from '@dbaas/operations';
import { TaskType } from '@dbaas/persistence';
import { Inject, Injectable, Logger } from '@nestjs/common';

/** A date as `YYYY-MM-DD` (UTC), the format of quarantine_dt. */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
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
 * second time to remove it for real; after the retention period it is purged.
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * DELETE /api/database/{id}/: quarantine a live database, remove a quarantined one.
   * The intent is fixed when the request arrives: a quarantine that finds the database
   * already quarantined (a concurrent DELETE did it) is done, not turned into a delete.
   */
  async delete(id: number, viewer: AuthenticatedUser): Promise<'quarantined' | 'deleted'> {
    const database = await this.databaseService.findVisible(id, viewer);
    // Refused before any task (nothing written), and again under the lock (the answer that counts).
    refuseProtected(database);
    if (database.status === 'quarantined') {
      this.policy.assertDba(viewer, 'delete a quarantined database');
      await this.step('delete_database', database, viewer.id, async (current, reachable) => {
        refuseProtected(current);
        await reachable();
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
          async (current) => {
            // Another process may have restored or purged it meanwhile; a database
            // protected while in quarantine (the listing leaves out those protected
            // before) stays there until a dba lifts the protection.
            if (current.status !== 'quarantined' || current.isProtected) return false;
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

  /** Drops the databases the store knows of from their engines (sample-data reset). */
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
    work: (current: DatabaseRecord, reachable: () => Promise<void>) => Promise<T>,
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
      async () => {
        let ping: Promise<void> | undefined;
        const reachable = () => (ping ??= this.databaseService.ensureReachable(database));
        if (pingEarly) reachable().catch(() => undefined);
        const current = await this.databaseService.find(database.id);
        if (!current) throw new NotFoundError('database', database.id);
        return work(current, reachable);
      },
    );
  }
}
