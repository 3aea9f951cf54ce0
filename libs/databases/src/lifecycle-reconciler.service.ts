import { CredentialsService } from '@dbaas/credentials';
import { databaseLockKey, InterruptedTask, OperationRunner, TaskHistory } from '@dbaas/operations';
import { Injectable, Logger } from '@nestjs/common';
import { DATABASE_RECOVERY, DatabaseRecoveryStep, SETTLED_STATES } from './database-states';
import { DatabaseRepository, DatabaseRow } from './database.repository';
import { DatabasesService } from './databases.service';
import { interruptedOutcome } from './interrupted-outcome';
import { RecoveryHooks } from './recovery-hooks';

/** Unsettled states: every state with a recovery step other than the credentials'. */
const UNSETTLED = (Object.keys(DATABASE_RECOVERY) as DatabaseRow['status'][]).filter(
  (state) => !SETTLED_STATES.includes(state),
);

/**
 * Finds work a dead process left half done and converges it, by the step DATABASE_RECOVERY
 * names for the database's state: a database or credential still `creating` is rolled back
 * (it was never acknowledged), a `quarantining` database gets its access back (or goes
 * back to `lost` when it is missing on its engine), a
 * `restoring` one goes back to quarantine, and anything `deleting` is deleted (data may
 * already be gone, so there is no way back).
 *
 * A database is only touched when its lock can be taken (OperationRunner.runIfFree), i.e.
 * no live process is working on it. The tasks that ended processes left open are closed
 * with the outcome of their work, in the round that converges their database. The API runs
 * it at boot and every minute (see BackgroundJobs).
 */
@Injectable()
export class LifecycleReconciler {
  private readonly logger = new Logger('Reconciler');

  /** What each recovery step does; the caller holds the database's lock. */
  private readonly steps: Record<DatabaseRecoveryStep, (database: DatabaseRow) => Promise<void>> = {
    destroy: (database) => this.databaseService.destroy(database),
    'give access back': async (database) => {
      // A database missing on its engine (a lost one was being quarantined) goes back to
      // `lost`: there is no access to give back to it, and it stays deletable.
      if (!(await this.databaseService.isOnEngine(database))) {
        await this.databaseService.transition(database, 'lost', { quarantineDt: null });
        return;
      }
      await this.credentialService.restoreAll(database, false);
      await this.databaseService.transition(database, 'ready', { quarantineDt: null });
    },
    'revoke access again': async (database) => {
      await this.credentialService.revokeAll(database);
      await this.databaseService.transition(database, 'quarantined');
    },
    'finish the backup restore': async (database) => {
      if (!this.hooks.finishBackupRestore)
        throw new Error('no backups module in this process to finish the restore');
      await this.hooks.finishBackupRestore(database);
    },
    'credentials only': (database) => this.credentialService.reconcile(database),
  };

  constructor(
    private readonly databases: DatabaseRepository,
    private readonly databaseService: DatabasesService,
    private readonly credentialService: CredentialsService,
    private readonly runner: OperationRunner,
    private readonly history: TaskHistory,
    private readonly hooks: RecoveryHooks,
  ) {}

  /** One round over everything unfinished; returns the names of the databases it converged. */
  async reconcileAll(): Promise<string[]> {
    const interrupted = await this.history.interrupted();
    const unfinished = await this.databases.inStates(UNSETTLED);
    const withCredentialWork = await this.credentialService.databasesWithUnfinishedWork();
    const taskDatabaseIds = interrupted.flatMap((task) => task.databaseId ?? []);
    const known = new Set(unfinished.map((database) => database.id));
    const others = await this.databases.findRows([
      ...new Set([...withCredentialWork, ...taskDatabaseIds].filter((id) => !known.has(id))),
    ]);
    const byId = new Map<number, DatabaseRow>();
    for (const database of [...unfinished, ...others]) byId.set(database.id, database);
    const done: string[] = [];
    let closed = 0;
    for (const database of byId.values()) {
      const key = databaseLockKey(database.environmentId, database.name);
      const tasks = interrupted.filter((task) => task.databaseId === database.id);
      try {
        const result = await this.runner.runIfFree(key, () => this.reconcile(database.id, tasks));
        if (result?.converged) done.push(database.name);
        if (result) closed += tasks.length;
      } catch (error) {
        this.logger.warn(
          `${database.name} is still unfinished, retried next round: ${(error as Error).message}`,
        );
      }
    }
    if (done.length)
      this.logger.log(`Converged ${done.length} interrupted operation(s): ${done.join(', ')}`);
    // Tasks whose database row is gone, or was never written: there is nothing to converge.
    for (const task of interrupted.filter(
      (t) => t.databaseId === null || !byId.has(t.databaseId),
    )) {
      await this.history.close(
        task,
        interruptedOutcome(task, { before: null, credentialsBefore: [], after: null }),
      );
      closed++;
    }
    if (closed) this.logger.log(`Closed ${closed} task(s) left unfinished by a process that ended`);
    for (const hook of this.hooks.afterRound) {
      await hook().catch((error: Error) =>
        this.logger.warn(`Recovery step failed, retried next round: ${error.message}`),
      );
    }
    return done;
  }

  /**
   * Converges one database if it has unfinished work, then closes the interrupted `tasks`
   * of it with the outcome of their work; the caller holds its lock.
   */
  private async reconcile(id: number, tasks: InterruptedTask[]): Promise<{ converged: boolean }> {
    const database = await this.databases.findRow(id);
    const credentialsBefore = await this.credentialService.unfinishedStates(id);
    // `lost` has nothing to finish on the engine: drift repair watches for its return.
    const converged =
      database !== null &&
      (DATABASE_RECOVERY[database.status] !== 'credentials only' || credentialsBefore.length > 0);
    const before = database?.status ?? null;
    if (converged) await this.converge(database);
    const after = converged
      ? ((await this.databases.findRow(id))?.status ?? null)
      : (database?.status ?? null);
    const found = { before, credentialsBefore, after };
    for (const task of tasks) await this.history.close(task, interruptedOutcome(task, found));
    return { converged };
  }

  /** Takes the recovery step of the database's state, as a task of its own. */
  private converge(database: DatabaseRow): Promise<void> {
    const step = DATABASE_RECOVERY[database.status];
    return this.runner.record(
      {
        type: 'reconcile_database',
        userId: null,
        databaseId: database.id,
        databaseName: database.name,
        teamId: database.teamId,
        origin: `reconciler: ${database.status}`,
      },
      () => this.steps[step](database),
    );
  }
}
