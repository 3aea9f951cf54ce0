import { SecretBox } from '@dbaas/core';
import { ConnectedInfra, InfraAccess } from '@dbaas/engines';
import { CredentialsService } from '@dbaas/credentials';
import { databaseLockKey, OperationRunner } from '@dbaas/operations';
import { TaskType } from '@dbaas/persistence';
import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseRepository, DatabaseRow } from './database.repository';
import { DatabasesService } from './databases.service';

/**
 * A database whose lock is busy is tried again within the round, after the other
 * databases of every infra, this many times, this far apart. The size check holds each
 * limited database's lock for a moment every round, and the two jobs' timers can tick in
 * step (the same intervals, started together: every round in a test, every fifth reconciler
 * round at the default 60 s and 300 s), so a round that tried only once could pass the
 * database by round after round. A lock held longer than the retries span (a backup, a
 * restore) waits for a later round.
 */
export const BUSY_LOCK_RETRIES = 3;
export const BUSY_LOCK_PAUSE_MS = 400;

/** A database that needs a repair, and its infra's connection. */
interface Pending {
  database: DatabaseRow;
  connected: ConnectedInfra;
}

/** What one round found and did, by database name. */
export interface DriftReport {
  /** `database/user` of every credential recreated on its engine. */
  repaired: string[];
  /** Databases now `lost`: missing on their engine. */
  lost: string[];
  /** Databases `lost` before and found on their engine again, now `ready`. */
  found: string[];
}

/**
 * Drift repair (SPEC §11): what the store says is `ready` must exist on the engine. Per
 * infra, one listing of its users (and databases, where the engine keeps them as such)
 * finds the differences; each one is then fixed under the database's lock, after a second
 * look, so that work in flight (a credential being deleted, a database being quarantined)
 * is never undone:
 *
 * - a `ready` credential missing on its engine is recreated with its stored password and
 *   privileges (task `repair_credential`), its writes blocked if the database is over its
 *   size limit;
 * - a `ready` database missing on its engine becomes `lost` (a `reconcile_database` task
 *   says so); found again, it is `ready` once more.
 *
 * A database whose lock is busy is tried again a few times at the end of the round
 * (BUSY_LOCK_RETRIES). An unreachable infra is skipped until a later round. The API runs
 * it after the lifecycle reconciler, every DBAAS_RECONCILE_INTERVAL_SECONDS.
 */
@Injectable()
export class DriftRepair {
  private readonly logger = new Logger('DriftRepair');

  constructor(
    private readonly databases: DatabaseRepository,
    private readonly databaseService: DatabasesService,
    private readonly credentials: CredentialsService,
    private readonly infras: InfraAccess,
    private readonly runner: OperationRunner,
    private readonly secrets: SecretBox,
  ) {}

  async repairAll(): Promise<DriftReport> {
    const report: DriftReport = { repaired: [], lost: [], found: [] };
    const rows = await this.databases.inStates(['ready', 'lost']);
    const byInfra = new Map<number, DatabaseRow[]>();
    for (const row of rows) {
      // Pushed, not copied: a copy per row is quadratic (minutes of CPU at 100,000 rows).
      const group = byInfra.get(row.infraId) ?? [];
      group.push(row);
      byInfra.set(row.infraId, group);
    }
    let busy: Pending[] = [];
    for (const [infraId, databases] of byInfra) {
      try {
        busy = busy.concat(await this.repairInfra(infraId, databases, report));
      } catch (error) {
        this.logger.warn(
          `Drift check of infra ${infraId} skipped, retried next round: ${(error as Error).message}`,
        );
      }
    }
    // Once for the whole round, after every infra: a round never waits longer than this.
    for (let retry = 1; busy.length > 0 && retry <= BUSY_LOCK_RETRIES; retry++) {
      await sleep(BUSY_LOCK_PAUSE_MS);
      busy = await this.repairEachIfFree(busy, report);
    }
    const changes = [
      ...report.repaired.map((name) => `recreated ${name}`),
      ...report.lost.map((name) => `${name} lost`),
      ...report.found.map((name) => `${name} found again`),
    ];
    if (changes.length) this.logger.log(`Drift repaired: ${changes.join(', ')}`);
    return report;
  }

  /** Fixes what differs on one infra; returns the databases whose lock was busy. */
  private async repairInfra(
    infraId: number,
    databases: DatabaseRow[],
    report: DriftReport,
  ): Promise<Pending[]> {
    const connected = await this.infras.connect(infraId);
    const onEngine = await this.lookAt(connected);
    const missingUsers = await this.readyCredentialsMissing(databases, onEngine.users);
    const needWork = databases.filter((database) => {
      const exists = onEngine.databases?.has(database.name) ?? true;
      return (
        (database.status === 'ready' && (!exists || missingUsers.has(database.id))) ||
        (database.status === 'lost' && exists)
      );
    });
    return this.repairEachIfFree(
      needWork.map((database) => ({ database, connected })),
      report,
    );
  }

  /** Each database under its lock, if free; returns those whose lock was busy. */
  private async repairEachIfFree(pending: Pending[], report: DriftReport): Promise<Pending[]> {
    const busy: Pending[] = [];
    for (const { database, connected } of pending) {
      if (!(await this.repairIfFree(database, connected, report)))
        busy.push({ database, connected });
    }
    return busy;
  }

  /**
   * One database under its lock: false only if another operation holds the lock (a failed
   * repair is logged and counts as done: the next round tries again).
   */
  private async repairIfFree(
    database: DatabaseRow,
    connected: ConnectedInfra,
    report: DriftReport,
  ): Promise<boolean> {
    const key = databaseLockKey(database.environmentId, database.name);
    try {
      const done = await this.runner.runIfFree(key, async () => {
        await this.repairDatabase(database.id, connected, report);
        return true;
      });
      return done === true;
    } catch (error) {
      this.logger.warn(
        `Drift repair of ${database.name} failed, retried next round: ${(error as Error).message}`,
      );
      return true;
    }
  }

  /** The users (and databases, when the engine lists every one) on the engine now. */
  private async lookAt({ provider, target }: ConnectedInfra) {
    const [users, databases] = await Promise.all([
      provider.listUsers(target),
      provider.listsEveryDatabase ? provider.listDatabases(target) : null,
    ]);
    return { users: new Set(users), databases: databases && new Set(databases) };
  }

  /** Database ids with at least one `ready` credential whose user is not on the engine. */
  private async readyCredentialsMissing(
    databases: DatabaseRow[],
    users: Set<string>,
  ): Promise<Set<number>> {
    const credentials = await this.credentials.readyOfDatabases(databases.map((d) => d.id));
    return new Set(credentials.filter((c) => !users.has(c.user)).map((c) => c.databaseId));
  }

  /** Under the database's lock: looks again, then fixes what is still wrong. */
  private async repairDatabase(
    id: number,
    connected: ConnectedInfra,
    report: DriftReport,
  ): Promise<void> {
    const database = await this.databases.findRow(id);
    if (!database || (database.status !== 'ready' && database.status !== 'lost')) return;
    const onEngine = await this.lookAt(connected);
    const exists = onEngine.databases?.has(database.name) ?? true;
    if (!exists) {
      if (database.status === 'ready') {
        await this.record(
          database,
          'reconcile_database',
          'drift: missing on its engine, now lost',
          () => this.databaseService.transition(database, 'lost'),
        );
        report.lost.push(database.name);
      }
      return;
    }
    if (database.status === 'lost') {
      await this.record(
        database,
        'reconcile_database',
        'drift: found on its engine again, ready',
        () => this.databaseService.transition(database, 'ready'),
      );
      report.found.push(database.name);
    }
    const credentials = await this.credentials.sealedOfDatabase(id, 'ready');
    const limits = await this.credentials.limitsOf(database);
    for (const credential of credentials.filter((c) => !onEngine.users.has(c.user))) {
      await this.record(
        database,
        'repair_credential',
        `drift: user ${credential.user} missing on its engine`,
        () =>
          connected.provider.createUser(connected.target, {
            database: database.name,
            user: credential.user,
            password: this.secrets.decrypt(credential.passwordEncrypted),
            privileges: credential.privileges,
            ...limits,
            writesBlocked: database.overSizeLimit,
          }),
      );
      report.repaired.push(`${database.name}/${credential.user}`);
    }
  }

  /** One repair as a system task of the database (its team sees it); its lock is held. */
  private record(database: DatabaseRow, type: TaskType, origin: string, work: () => Promise<void>) {
    return this.runner.record(
      {
        type,
        userId: null,
        databaseId: database.id,
        databaseName: database.name,
        teamId: database.teamId,
        origin,
      },
      work,
    );
  }
}
