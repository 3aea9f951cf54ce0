import { CredentialsService } from '@dbaas/credentials';
import { databaseLockKey, DatabaseLocks, TaskHistory } from '@dbaas/operations';
import { CredentialEntity, DatabaseEntity } from '@dbaas/persistence';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, Repository } from 'typeorm';
import { DatabasesService } from './databases.service';

/**
 * Finds work a dead process left half done and converges it: a database or credential
 * still `creating` is rolled back (it was never acknowledged), a `quarantining` database
 * gets its access back, a `restoring` one goes back to quarantine, and anything
 * `deleting` is deleted (data may already be gone, so there is no way back).
 *
 * A database is only touched when its lock can be taken, i.e. no live process is working
 * on it. The API runs it at boot and every minute (see BackgroundJobs).
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
    const unfinished = await this.databases.find({ where: { status: Not(In(['ready', 'quarantined', 'lost'])) } });
    const withCredentialWork = await this.credentials.find({
      where: { status: Not('ready') },
      relations: { database: true },
    });
    const byId = new Map<number, DatabaseEntity>();
    for (const database of [...unfinished, ...withCredentialWork.map((c) => c.database)]) byId.set(database.id, database);
    const done: string[] = [];
    for (const database of byId.values()) {
      const key = databaseLockKey(database.environmentId, database.name);
      try {
        const converged = await this.locks.tryWithLock(key, () => this.reconcile(database.id));
        if (converged) done.push(converged);
      } catch (error) {
        this.logger.warn(`${database.name} is still unfinished, retried next round: ${(error as Error).message}`);
      }
    }
    if (done.length) this.logger.log(`Converged ${done.length} interrupted operation(s): ${done.join(', ')}`);
    const closed = await this.history.closeInterrupted();
    if (closed) this.logger.log(`Closed ${closed} task(s) left unfinished by a process that ended`);
    return done;
  }

  /** Converges one database; the caller holds its lock. */
  private async reconcile(id: number): Promise<string | undefined> {
    const database = await this.databases.findOneBy({ id });
    if (!database) return undefined;
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
      return database.name;
    } catch (error) {
      await this.history.failed(task, error);
      throw error;
    }
  }
}
