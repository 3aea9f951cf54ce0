import { NO_CAPACITY_MESSAGE } from '@dbaas/catalog';
import { ConflictError, NoCapacityError, testFault } from '@dbaas/core';
import { CredentialsService } from '@dbaas/credentials';
import { EngineProvider, InfraAccess, InfraTarget } from '@dbaas/engines';
import { databaseLockKey, OperationRunner, TaskRecord } from '@dbaas/operations';
import { Injectable, Logger } from '@nestjs/common';
import { DatabaseRecord, DatabaseRepository, DatabaseRow } from './database.repository';

/** One end of a move: an infra as its provider reaches it. */
export interface MoveEnd {
  target: InfraTarget;
  provider: EngineProvider;
}

/**
 * What copies a moving database's data from the source to the target (the clone machinery
 * of libs/backups: the source's dump streamed into the target's restore). Called once the
 * database exists on the target, its logins on the source revoked.
 */
export type CopyStep = (from: MoveEnd, to: MoveEnd, database: string) => Promise<void>;

/** The new plan of a move, as the plan change checked it. */
export interface MovePlan {
  planId: number;
  maxConnections: number;
  /** The infra placement chose for it (the one with most room). */
  infraId: number;
}

/** How many infras a move tries when the chosen one fills up meanwhile. */
const PLACEMENT_ATTEMPTS = 3;

/**
 * A database moves to an infra of another plan (a plan change the database's infra does
 * not serve), as a `move_database` task under the database's lock:
 *
 * 1. a slot on an infra of the new plan (placement; the name and the logins must be free
 *    on its engine), the row `moving` with that infra as the other end of the move, the
 *    credentials' names claimed there;
 * 2. writes refused on the source: every login is revoked there (all access: unknown
 *    password, no login, open sessions ended, as a quarantine does), reads included;
 * 3. the database made on the target with the new plan's limits, the data copied
 *    (CopyStep), every credential made again there with its current password and
 *    privileges;
 * 4. the switch: the row points at the target (infra, plan, hence endpoint) and the other
 *    end of the move is now the source;
 * 5. `endMove`: the database and its users on the other end are dropped, access is given
 *    back where the row points, `ready`.
 *
 * A failure before the switch runs `endMove` at once, which then rolls the move back (the
 * half-made copy goes, access comes back on the source with the stored passwords); a
 * process killed at any step leaves the row `moving`, and the reconciler runs the same
 * `endMove` (DATABASE_RECOVERY). So the database ends `ready` and complete: where it was,
 * or, once switched, on the target.
 */
@Injectable()
export class DatabaseMoves {
  private readonly logger = new Logger('Moves');

  constructor(
    private readonly databases: DatabaseRepository,
    private readonly credentials: CredentialsService,
    private readonly infras: InfraAccess,
    private readonly runner: OperationRunner,
  ) {}

  /**
   * Starts the move as a task and returns once the row is `moving` (`claimed`; or the task
   * failed before: a 409 or a 503, nothing changed), with the task and the rest of the work.
   */
  async start(
    database: DatabaseRecord,
    plan: MovePlan,
    userId: number,
    copy: CopyStep,
  ): Promise<{ task: TaskRecord; claimed: Promise<void>; done: Promise<void> }> {
    const subject = {
      type: 'move_database' as const,
      userId,
      databaseId: database.id,
      databaseName: database.name,
      teamId: database.teamId,
      origin: `plan change to plan ${plan.planId}`,
    };
    let claimed!: () => void;
    let refused!: (error: unknown) => void;
    const started = new Promise<void>((resolve, reject) => {
      claimed = resolve;
      refused = reject;
    });
    started.catch(() => undefined);
    const { task, done } = await this.runner.begin(
      subject,
      databaseLockKey(database.environmentId, database.name),
      async () => {
        const current = await this.databases.find(database.id);
        if (!current || current.status !== 'ready') {
          throw new ConflictError(
            `Database ${database.name} is ${current?.status ?? 'gone'}: only a ready database can change plan.`,
          );
        }
        const infraId = await this.claimTarget(current, plan);
        claimed();
        await this.move(current, plan, infraId, copy);
      },
    );
    done.catch(refused);
    return { task, claimed: started, done };
  }

  /**
   * The other end of an interrupted or failed move goes (its database and users), the
   * credentials' names are claimed where the row points again, access is given back there
   * (stored passwords and privileges), and the row is `ready`. Before the switch that rolls
   * the move back, after it that finishes it. Idempotent; the caller holds the lock.
   */
  async endMove(database: Pick<DatabaseRow, 'id'>): Promise<void> {
    const row = await this.databases.findRow(database.id);
    if (!row || row.status !== 'moving' || row.moveInfraId == null) return;
    const other = { ...row, infraId: row.moveInfraId };
    // A name another database's credential took there meanwhile (the move's claim then
    // failed) is that credential's login: it stays.
    const heldByOthers = await this.credentials.usersOfOtherDatabases(row.moveInfraId, row.id);
    await this.credentials.dropUsers(other, heldByOthers);
    const { provider, target } = await this.infras.connect(row.moveInfraId);
    await provider.dropDatabase(target, row.name);
    await this.credentials.claimOnInfra(row.id, row.infraId);
    // The row leaves the move not over its limit (DatabaseRepository.endMove): the logins
    // get their writes too, and the next size check restricts them again if it must.
    await this.credentials.restoreAll({ ...row, overSizeLimit: false }, false);
    await this.databases.endMove(row.id);
  }

  /**
   * The target: an infra of the new plan whose engine has neither the name nor any of the
   * logins, with a slot claimed (the row `moving`). The chosen one, or the next when it
   * filled up meanwhile.
   */
  private async claimTarget(database: DatabaseRecord, plan: MovePlan): Promise<number> {
    let infraId: number | null = plan.infraId;
    for (let attempt = 1; ; attempt++) {
      if (infraId === null || infraId === database.infraId)
        throw new NoCapacityError(NO_CAPACITY_MESSAGE);
      const { provider, target } = await this.infras.connect(infraId);
      if (await provider.databaseExists(target, database.name)) {
        throw new ConflictError(
          `A database named ${database.name} already exists on the engine server of the new plan.`,
        );
      }
      await this.credentials.assertMovable(database, infraId);
      if (await this.databases.startMove(database.id, infraId, plan.planId)) return infraId;
      if (attempt === PLACEMENT_ATTEMPTS) throw new NoCapacityError(NO_CAPACITY_MESSAGE);
      infraId = await this.databases.nextPlacement(plan.planId, database.environmentId);
    }
  }

  /** Steps 1 (the names) to 5 of the move; a failure before the switch rolls it back. */
  private async move(
    database: DatabaseRecord,
    plan: MovePlan,
    infraId: number,
    copy: CopyStep,
  ): Promise<void> {
    const name = database.name;
    try {
      await this.credentials.claimOnInfra(database.id, infraId);
      await this.credentials.revokeAll(database);
      testFault('move-started', name);
      const source = await this.infras.connect(database.infraId);
      const target = await this.infras.connect(infraId);
      await target.provider.createDatabase(target.target, name, {
        maxConnections: plan.maxConnections,
      });
      await copy(source, target, name);
      await this.credentials.recreateAll(database, infraId, {
        maxConnections: plan.maxConnections,
      });
      await this.databases.switchMove(database.id);
      testFault('move-switched', name);
    } catch (error) {
      await this.endMove(database).catch((undo: unknown) =>
        this.logger.warn(
          `Rolling back the move of ${name} left work for the reconciler: ${(undo as Error).message}`,
        ),
      );
      throw error;
    }
    // Moved: what is left is the source, dropped now, or by the reconciler if that fails.
    await this.endMove(database);
  }
}
