import { CredentialsService } from '@dbaas/credentials';
import { databaseLockKey, DatabaseLocks, InterruptedTask, TaskHistory } from '@dbaas/operations';
import { CredentialEntity, DatabaseEntity, DatabaseStatus } from '@dbaas/persistence';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, Repository } from 'typeorm';
import { DatabasesService } from './databases.service';
import { interruptedOutcome } from './interrupted-outcome';

/** States with no operation in flight: the reconciler converges nothing in them. */
const SETTLED: DatabaseStatus[] = ['ready', 'quarantined', 'lost'];

/**
 * Finds work a dead process left half done and converges it: a database or credential
 * still `creating` is rolled back (it was never acknowledged), a `quarantining` database
 * gets its access back, a `restoring` one goes back to quarantine, and anything
 * `deleting` is deleted (data may already be gone, so there is no way back).
 *
 * A database is only touched when its lock can be taken, i.e. no live process is working
 * on it. The tasks that ended processes left open are closed with the outcome of their
 * work, in the round that converges their database. The API runs it at boot and every
 * minute (see BackgroundJobs).
 */
@Injectable()
export class LifecycleReconciler {
  private readonly logger = new Logger('Reconciler');

  constructor(
    @InjectRepository(DatabaseEntity) private readonly databases: Repository<DatabaseEntity>,
    @InjectRepository(CredentialEntity) private readonly credentials: Repository<CredentialEntity>,
    private readonly databaseService: DatabasesService,
    private readonly credentialService: CredentialsService,
    private readonly locks: DatabaseLocks,
    private readonly history: TaskHistory,
  ) {}

  /** One round over everything unfinished; returns the names of the databases it converged. */
  async reconcileAll(): Promise<string[]> {
    const interrupted = await this.history.interrupted();
    const unfinished = await this.databases.find({ where: { status: Not(In(SETTLED)) } });
    const withCredentialWork = await this.credentials.find({
      where: { status: Not('ready') },
      relations: { database: true },
    });
    const taskDatabaseIds = [...new Set(interrupted.flatMap((task) => task.databaseId ?? []))];
    const ofTasks = taskDatabaseIds.length
      ? await this.databases.findBy({ id: In(taskDatabaseIds) })
      : [];
    const byId = new Map<number, DatabaseEntity>();
    for (const database of [
      ...unfinished,
      ...withCredentialWork.map((c) => c.database),
      ...ofTasks,
    ]) {
      byId.set(database.id, database);
    }
    const done: string[] = [];
    let closed = 0;
    for (const database of byId.values()) {
      const key = databaseLockKey(database.environmentId, database.name);
      const tasks = interrupted.filter((task) => task.databaseId === database.id);
      try {
        const result = await this.locks.tryWithLock(key, () => this.reconcile(database.id, tasks));
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
    return done;
  }

  /**
   * Converges one database if it has unfinished work, then closes the interrupted `tasks`
   * of it with the outcome of their work; the caller holds its lock.
   */
  private async reconcile(id: number, tasks: InterruptedTask[]): Promise<{ converged: boolean }> {
    const database = await this.databases.findOneBy({ id });
    const credentialsBefore = (
      await this.credentials.findBy({ databaseId: id, status: Not('ready') })
    ).map((credential) => credential.status);
    // `lost` has nothing to finish on the engine: drift repair watches for its return.
    const converged =
      database !== null && (!SETTLED.includes(database.status) || credentialsBefore.length > 0);
    if (converged) await this.converge(database);
    const after = converged
      ? ((await this.databases.findOneBy({ id }))?.status ?? null)
      : (database?.status ?? null);
    const found = { before: database?.status ?? null, credentialsBefore, after };
    for (const task of tasks) await this.history.close(task, interruptedOutcome(task, found));
    return { converged };
  }

  /** Rolls back or finishes the database's unfinished work, as a task of its own. */
  private async converge(database: DatabaseEntity): Promise<void> {
    const id = database.id;
    const task = await this.history.open({
      type: 'reconcile_database',
      userId: null,
      databaseId: database.id,
      databaseName: database.name,
      teamId: database.teamId,
      origin: `reconciler: ${database.status}`,
    });
    await this.history.started(task);
    try {
      switch (database.status) {
        case 'creating':
        case 'deleting':
          await this.databaseService.destroy(database);
          break;
        case 'quarantining':
          await this.credentialService.restoreAll(database, false);
          await this.databaseService.setStatus(id, 'ready', null);
          break;
        case 'restoring':
          await this.credentialService.revokeAll(database);
          await this.databaseService.setStatus(id, 'quarantined');
          break;
        default:
          await this.credentialService.reconcile(database);
      }
      await this.history.succeeded(task);
    } catch (error) {
      await this.history.failed(task, error);
      throw error;
    }
  }
}
