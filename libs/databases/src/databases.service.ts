import { AccessPolicy, AuthenticatedUser, TeamsService } from '@dbaas/auth';
import { NO_CAPACITY_MESSAGE } from '@dbaas/catalog';
import {
  APP_CONFIG,
  AppConfig,
  ConflictError,
  nameProblem,
  normalizeName,
  NoCapacityError,
  NotFoundError,
  Page,
  PageRequest,
  skipTake,
  testFault,
  ValidationFailedError,
} from '@dbaas/core';
import { CredentialsService, defaultUserName } from '@dbaas/credentials';
import { EngineProvider, InfraAccess, InfraTarget } from '@dbaas/engines';
import { databaseLockKey, OperationRunner, TaskHistory, TaskRecord } from '@dbaas/operations';
import { DatabaseStatus, TaskType } from '@dbaas/persistence';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DatabaseFilter,
  DatabaseRecord,
  DatabaseRepository,
  DatabaseRow,
  NewDatabase,
} from './database.repository';
import { CopyStep, DatabaseMoves } from './database-moves.service';
import { ProjectRecord, ProjectRepository } from './project.repository';
import { tagProblems, uniqueTags } from './tags';
import { UsedSizeCache } from './used-size.cache';

export type { DatabaseFilter, DatabaseRecord, DatabaseRow } from './database.repository';

export interface DatabaseInput {
  name: string;
  plan: number;
  environment: number;
  project?: number | null;
  team?: number;
  description?: string;
  /** Default false: while true, a DELETE is refused. */
  isProtected?: boolean;
  /** At most MAX_TAGS, each TAG_PATTERN; duplicates are dropped. */
  tags?: string[];
}

export interface DatabaseChanges {
  project?: number | null;
  description?: string;
  isProtected?: boolean;
  /** Replaces every tag. */
  tags?: string[];
  /**
   * Another active plan of the same engine offered in the database's environment: applied
   * at once when the database's infra serves it, else the database moves (DatabaseMoves).
   */
  plan?: number;
  /** Read-only after creation: accepted only when unchanged. */
  name?: string;
  environment?: number;
}

/** An updated database; `task` when a plan change moves it (a 202: the task does the move). */
export interface UpdatedDatabase extends DatabaseView {
  task?: TaskRecord;
}

/** A database as the API shows it: the record plus what comes from its engine. */
export interface DatabaseView {
  database: DatabaseRecord;
  engineId: number;
  endpoint: string;
  totalSizeInBytes: number;
  usedSizeInBytes: number | null;
}

/** The created database with the password of its default credential. */
export interface CreatedDatabase extends DatabaseView {
  defaultPassword: string;
}

/**
 * What fills a new database with data (a clone, `from_backup`): called with the infra the
 * database was made on, once it exists there, before its owner credential and `ready`.
 */
export type FillStep = (
  target: InfraTarget,
  provider: EngineProvider,
  database: string,
) => Promise<void>;

/** A create that starts with data (DatabasesService.createFilled). */
export interface FilledCreate {
  /** The task type that records it. */
  taskType: TaskType;
  /** The engine type the data comes from: a plan of another engine is a 400. */
  engineType: string;
  /** What the data comes from, as the 400 names it (`source database`, `backup`). */
  source: string;
  /** Recorded on the task (e.g. `clone of database 3`). */
  origin?: string;
  fill: FillStep;
}

/** A filled create accepted: the new row (`creating`), its task, and the rest of the work. */
export interface AcceptedDatabase {
  view: DatabaseView;
  task: TaskRecord;
  /** Settles with the ready database, or fails once the database is rolled back. */
  done: Promise<DatabaseView>;
}

/** A promise settled from outside, once (later calls do nothing). */
function settleOnce<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The value of a settled lookup, or its error thrown now. */
function valueOf<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/**
 * The tags without duplicates, or a validation error on `tags` (added to `errors` when
 * given, else thrown).
 */
function checkedTags(tags: string[] | undefined, errors?: Record<string, string[]>): string[] {
  const unique = uniqueTags(tags ?? []);
  const problems = tagProblems(unique);
  if (!problems.length) return unique;
  if (!errors) throw new ValidationFailedError({ tags: problems });
  errors.tags = problems;
  return unique;
}

/** Infras a create tries when the chosen one fills up meanwhile (see DatabasesService.create). */
const PLACEMENT_ATTEMPTS = 3;

@Injectable()
export class DatabasesService {
  private readonly logger = new Logger('Databases');
  private readonly sizes: UsedSizeCache;

  constructor(
    private readonly databases: DatabaseRepository,
    private readonly projects: ProjectRepository,
    private readonly teams: TeamsService,
    private readonly infras: InfraAccess,
    private readonly credentials: CredentialsService,
    private readonly policy: AccessPolicy,
    private readonly runner: OperationRunner,
    private readonly history: TaskHistory,
    private readonly moves: DatabaseMoves,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.sizes = new UsedSizeCache(config.usedSizeCacheSeconds * 1000);
  }

  /**
   * One page of the databases the viewer may see: two statements in parallel, the page and
   * its (cached) total (DatabaseRepository.page), and nothing per row.
   */
  async list(
    page: PageRequest,
    viewer: AuthenticatedUser,
    filter: DatabaseFilter,
  ): Promise<Page<DatabaseView>> {
    const { skip, take } = skipTake(page);
    const { items, count } = await this.databases.page(viewer, filter, skip, take);
    // Lists show the last measured size and refresh it in the background: never wait on an engine.
    for (const row of items) if (this.sizes.isStale(row.id)) void this.measure(row);
    return { items: items.map((row) => this.view(row, this.sizes.peek(row.id))), count };
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<DatabaseView> {
    const database = await this.findVisible(id, viewer);
    return this.view(database, await this.measure(database));
  }

  /** Like get(), without measuring the size now: the last measured size, if any. */
  async getUnmeasured(id: number, viewer: AuthenticatedUser): Promise<DatabaseView> {
    const database = await this.findVisible(id, viewer);
    return this.view(database, this.sizes.peek(database.id));
  }

  /** The database with its plan's limit, engine and credentials, or 404 for the viewer. */
  async findVisible(id: number, viewer: AuthenticatedUser): Promise<DatabaseRecord> {
    const database = await this.find(id);
    if (!database || !this.policy.canSeeDatabase(viewer, database))
      throw new NotFoundError('database', id);
    return database;
  }

  /**
   * One database as the API shows it, whoever may see it (callers check). Every detail,
   * delete and operation step reads it, in one statement (DatabaseRepository.find).
   */
  find(id: number): Promise<DatabaseRecord | null> {
    return this.databases.find(id);
  }

  /** Every database row, oldest first (the sample-data reset drops them all). */
  all(): Promise<DatabaseRow[]> {
    return this.databases.all();
  }

  /** The unprotected databases quarantined on or before `day` (YYYY-MM-DD): the purge's. */
  quarantinedSince(day: string): Promise<DatabaseRow[]> {
    return this.databases.quarantinedSince(day);
  }

  /**
   * Moves a database from its `status` (as read under the lock the caller holds) to `to`,
   * with its quarantine date when given, and updates `database.status`. A move
   * DATABASE_TRANSITIONS does not allow, or from a state the row is no longer in, is a 409.
   */
  async transition(
    database: Pick<DatabaseRow, 'id' | 'status'>,
    to: DatabaseStatus,
    extra?: { quarantineDt?: string | null },
  ): Promise<void> {
    await this.databases.transition(database.id, database.status, to, extra);
    database.status = to;
  }

  /**
   * Creates the database on the engine with its default credential `u_<name>`, as a task
   * holding the lock of (environment, name). The row is written first (status
   * `creating`), so the name is claimed before any engine work; if anything fails after
   * that, everything made so far is undone and the row removed, still under the lock and
   * before the answer (an engine failure's 503 leaves nothing half made). If the process
   * dies instead, the reconciler finds the `creating` row and does the same.
   */
  async create(input: DatabaseInput, viewer: AuthenticatedUser): Promise<CreatedDatabase> {
    const started = await this.startCreate(input, viewer, null);
    const made = await started.done;
    // The answer comes from the rows in hand; the used size is measured on the first detail.
    return { ...this.view(made.record, null), defaultPassword: made.password };
  }

  /**
   * A create whose database starts with data (a clone, `from_backup`): the same checks,
   * slot claim and owner credential as `create`, with `filled.fill` run after the database
   * is made on its engine and before it is `ready`. Returns once the row is written
   * (`creating`, named by the task): the rest goes on in the background (a 202). A failure
   * of the fill rolls the new database back completely (users, database, records) before
   * the task ends with the reason; a process that dies meanwhile leaves the `creating` row
   * to the reconciler, which does the same.
   */
  async createFilled(
    input: DatabaseInput,
    viewer: AuthenticatedUser,
    filled: FilledCreate,
  ): Promise<AcceptedDatabase> {
    const started = await this.startCreate(input, viewer, filled);
    const record = await started.claimed;
    const done = started.done.then((made) => this.view(made.record, null));
    done.catch(() => undefined); // the failure is on the task; callers need not wait for it
    return { view: this.view(record, null), task: started.task, done };
  }

  /**
   * The one create path: the checks in the order of the rules, then the task (recorded
   * before this returns) that claims the slot and makes the database, filled or not.
   * `claimed` settles once the row is written (or the task failed before); `done` with
   * the whole work.
   */
  private async startCreate(
    input: DatabaseInput,
    viewer: AuthenticatedUser,
    filled: FilledCreate | null,
  ) {
    const name = normalizeName(input.name);
    // The lookups run together (the catalog checks as one query); their answers are
    // checked in the order of the rules.
    const [checks, team, project] = await Promise.allSettled([
      this.databases.createChecks(input.plan, input.environment, name),
      this.teams.owningTeam(input.team, viewer),
      input.project != null ? this.requireProject(input.project) : null,
    ]);
    const found = valueOf(checks);
    if (found.planId === null)
      throw new ValidationFailedError({ plan: [`no plan with id ${input.plan}`] });
    if (!found.environmentExists) {
      throw new ValidationFailedError({
        environment: [`no environment with id ${input.environment}`],
      });
    }
    if (!found.isActive || !found.offered) {
      throw new ValidationFailedError({ plan: ['this plan is not offered in this environment'] });
    }
    const tags = checkedTags(input.tags);
    const planId = found.planId;
    const engineType = found.engineType!;
    if (filled && filled.engineType !== engineType) {
      throw new ValidationFailedError({
        plan: [`must be a plan of the ${filled.source}'s engine (${filled.engineType})`],
      });
    }
    const provider = this.infras.providerFor(engineType);
    const reservedPrefix = provider.reservedNamePrefixes.find((prefix) => name.startsWith(prefix));
    const problem =
      nameProblem(name) ??
      (provider.reservedNames.includes(name) ? `"${name}" is reserved by the engine` : null) ??
      (reservedPrefix
        ? `"${name}" starts with "${reservedPrefix}", which the engine reserves`
        : null);
    if (problem) throw new ValidationFailedError({ name: [problem] });
    const teamId = valueOf(team);
    const filedUnder = valueOf(project);
    if (filedUnder) this.assertProjectOfTeam(filedUnder, teamId, viewer);
    if (found.taken)
      throw new ConflictError(`A database named ${name} already exists in this environment.`);
    const subject = {
      type: filled?.taskType ?? ('create_database' as const),
      userId: viewer.id,
      databaseName: name,
      teamId,
      ...(filled?.origin ? { origin: filled.origin } : {}),
    };
    const lockKey = databaseLockKey(input.environment, name);
    const claimed = settleOnce<DatabaseRecord>();
    const { task, done } = await this.runner.begin(subject, lockKey, async (task) => {
      const wanted = {
        name,
        description: input.description ?? '',
        planId,
        environmentId: input.environment,
        projectId: input.project ?? null,
        teamId,
        isProtected: input.isProtected ?? false,
        tags,
      };
      const { row, infra } = await this.claimSlot(wanted, found.infraId, provider);
      const record: DatabaseRecord = {
        ...row,
        sizeLimitInBytes: found.sizeLimitInBytes,
        maxConnections: found.maxConnections,
        addresses: infra.addresses,
        engineId: infra.engineId,
        engineType,
        credentials: [],
      };
      try {
        await this.history.linkDatabase(task, row.id);
        claimed.resolve({ ...record });
        const limits = { maxConnections: found.maxConnections };
        await provider.createDatabase(infra.target, name, limits);
        if (filled) {
          await filled.fill(infra.target, provider, name);
          testFault('database-filled', name);
        }
        const { credential, password } = await this.credentials.createFor(
          { ...row, ...limits },
          defaultUserName(name, provider.userNameMaxLength),
          'owner',
          { markReady: false },
        );
        // The owner first: a ready database always has a ready owner.
        await this.credentials.markReady(credential);
        await this.transition(row, 'ready');
        record.status = row.status;
        record.credentials = [{ id: credential.id, user: credential.user }];
        return { record, password };
      } catch (error) {
        // Still under the create's lock: no reconciler can step in before it is undone, and
        // the task ends (and a plain create answers) only once everything is undone.
        await this.rollBack(row);
        throw error;
      }
    });
    done.catch((error: unknown) => claimed.reject(error));
    return { task, claimed: claimed.promise, done };
  }

  /**
   * Writes the new row (`creating`) on an infra with room: the one chosen with the create's
   * checks or, if its last slot went meanwhile, the next one (PLACEMENT_ATTEMPTS at most).
   * Before each, its engine must answer (a 503 before anything is written) and must not
   * have the name, whoever made it (EngineProvider.databaseExists; on Redis any key of the
   * prefix counts), so a database dbaas did not make is never taken over (creates converge on
   * what exists). The slot is taken under the infra's lock (DatabaseRepository.claimSlot),
   * so two creates of different names cannot both take its last one; the team's
   * `database_limit` is checked there too, under the team's lock (409 quota-exceeded), so
   * every path that makes a database through this method (create, clone, from_backup) gets
   * the quota for free.
   */
  private async claimSlot(
    wanted: Omit<NewDatabase, 'infraId'>,
    chosen: number | null,
    provider: EngineProvider,
  ) {
    let infraId = chosen;
    for (let attempt = 1; ; attempt++) {
      if (infraId === null) throw new NoCapacityError(NO_CAPACITY_MESSAGE);
      const connected = await this.infras.connect(infraId);
      if (await provider.databaseExists(connected.target, wanted.name)) {
        throw new ConflictError(
          `A database named ${wanted.name} already exists on the engine server.`,
        );
      }
      const row = await this.databases.claimSlot({ ...wanted, infraId });
      if (row) {
        const { infra, target } = connected;
        return {
          row,
          infra: { target, addresses: infra.addresses, engineId: infra.engineId },
        };
      }
      if (attempt === PLACEMENT_ATTEMPTS) throw new NoCapacityError(NO_CAPACITY_MESSAGE);
      infraId = await this.databases.nextPlacement(wanted.planId, wanted.environmentId);
    }
  }

  /**
   * Undoes a failed create; the caller holds its lock. What it cannot finish (the row stays
   * `creating` or `deleting`), the reconciler will.
   */
  private async rollBack(row: DatabaseRow): Promise<void> {
    try {
      await this.destroy(row);
    } catch (error) {
      this.logger.warn(
        `Rollback of ${row.name} left work for the reconciler: ${(error as Error).message}`,
      );
    }
  }

  /**
   * Drops every user and the database on the engine, then the records (its credentials,
   * then the database row); idempotent, so a retry after a failure converges (the row stays
   * `deleting` until then). The caller holds the database's lock; `database.credentials`,
   * when set, were read under it (see CredentialsService.dropUsers).
   */
  async destroy(database: DatabaseRow & { credentials?: { user: string }[] }): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    // The credentials too: until the rows go, they show that their logins are going.
    await this.credentials.markAllDeleting(database.id);
    if (database.status !== 'deleting') await this.transition(database, 'deleting');
    await this.credentials.dropUsers(database);
    testFault('users-dropped', database.name);
    await provider.dropDatabase(target, database.name);
    await this.credentials.forgetAll(database.id);
    await this.databases.delete(database.id);
    this.sizes.forget(database.id);
  }

  /**
   * Whether the database is on its engine now (as drift repair sees it): an engine that
   * cannot list every database (Redis) is taken to have it.
   */
  async isOnEngine(database: Pick<DatabaseRow, 'infraId' | 'name'>): Promise<boolean> {
    const { provider, target } = await this.infras.connect(database.infraId);
    if (!provider.listsEveryDatabase) return true;
    return (await provider.listDatabases(target)).includes(database.name);
  }

  /** 503 before any state changes when the engine does not answer. */
  async ensureReachable(database: Pick<DatabaseRow, 'infraId'>): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    await provider.ping(target);
  }

  /**
   * Changes what may change after creation. A new `plan` (checked with the rest, before
   * anything changes: 400 when it is not an active plan of the database's engine offered in
   * its environment) is applied at once when the database's infra serves it (its limits on
   * the engine, as a `change_plan` task); otherwise the database moves to an infra of the
   * plan (`copy` copies the data; without it a move is refused) and the answer carries the
   * `move_database` task, once the database is `moving`. The other changes are written
   * after the plan's, so a refused plan change (409, 503) changes nothing. `afterChange`
   * runs once a plan changed in place, under the same lock, before the answer (the size
   * check against the new limit); its failure is logged, the plan change stands.
   */
  async update(
    id: number,
    changes: DatabaseChanges,
    viewer: AuthenticatedUser,
    copy?: CopyStep,
    afterChange?: (databaseId: number) => Promise<unknown>,
  ): Promise<UpdatedDatabase> {
    const database = await this.findVisible(id, viewer);
    const errors: Record<string, string[]> = {};
    if (changes.name !== undefined && normalizeName(changes.name) !== database.name)
      errors.name = ['is read-only after creation'];
    if (changes.environment !== undefined && changes.environment !== database.environmentId) {
      errors.environment = ['is read-only after creation'];
    }
    const planChange =
      changes.plan !== undefined && changes.plan !== database.planId
        ? await this.checkPlanChange(database, changes.plan, errors, copy)
        : null;
    const tags = changes.tags === undefined ? undefined : checkedTags(changes.tags, errors);
    if (Object.keys(errors).length) throw new ValidationFailedError(errors);
    if (changes.project != null) {
      const project = await this.requireProject(changes.project);
      this.assertProjectOfTeam(project, database.teamId, viewer);
    }
    if (planChange && database.status !== 'ready') {
      throw new ConflictError(
        `Database ${database.name} is ${database.status}: only a ready database can change plan.`,
      );
    }
    let task: TaskRecord | undefined;
    if (planChange?.servedHere)
      await this.changePlanInPlace(database, planChange, viewer, afterChange);
    else if (planChange) {
      if (planChange.infraId === null) throw new NoCapacityError(NO_CAPACITY_MESSAGE);
      const plan = { ...planChange, infraId: planChange.infraId };
      const started = await this.moves.start(database, plan, viewer.id, copy!);
      await started.claimed;
      task = started.task;
    }
    const update: {
      projectId?: number | null;
      description?: string;
      isProtected?: boolean;
      tags?: string[];
    } = {};
    if (changes.project !== undefined) update.projectId = changes.project;
    if (changes.description !== undefined) update.description = changes.description;
    if (changes.isProtected !== undefined) update.isProtected = changes.isProtected;
    if (tags !== undefined) update.tags = tags;
    // The store checks the project's team too: a project moved meanwhile is a 409.
    await this.databases.updateDetails(id, update);
    if (task) return { ...(await this.getUnmeasured(id, viewer)), task };
    return this.get(id, viewer);
  }

  /** Whether changing the database to this plan moves it (its infra does not serve the plan). */
  async planChangeMoves(database: DatabaseRecord, planId: number): Promise<boolean> {
    if (planId === database.planId) return false;
    return !(await this.databases.planChangeChecks(planId, database)).servedHere;
  }

  /**
   * The new plan's checks (errors on `plan` are added to `errors`): it exists, is active,
   * is of the database's engine and offered in its environment. Null when it is refused.
   */
  private async checkPlanChange(
    database: DatabaseRecord,
    planId: number,
    errors: Record<string, string[]>,
    copy: CopyStep | undefined,
  ) {
    const found = await this.databases.planChangeChecks(planId, database);
    const problem =
      found.planId === null
        ? `no plan with id ${planId}`
        : !found.isActive
          ? 'this plan is not active'
          : found.engineType !== database.engineType
            ? `must be a plan of the database's engine (${database.engineType})`
            : !found.offered
              ? "this plan is not offered in the database's environment"
              : !found.servedHere && !copy
                ? 'is served by another engine server only: moving there is not available on this route'
                : null;
    if (problem) {
      errors.plan = [problem];
      return null;
    }
    return { ...found, planId };
  }

  /**
   * A plan the database's infra serves: its limits on the engine first (a 503 changes
   * nothing), then the row, as a `change_plan` task under the database's lock. The size
   * limit is the plan's as soon as the row says so.
   */
  private async changePlanInPlace(
    database: DatabaseRecord,
    plan: { planId: number; maxConnections: number },
    viewer: AuthenticatedUser,
    afterChange?: (databaseId: number) => Promise<unknown>,
  ): Promise<void> {
    const subject = {
      type: 'change_plan' as const,
      userId: viewer.id,
      databaseId: database.id,
      databaseName: database.name,
      teamId: database.teamId,
      origin: `plan change to plan ${plan.planId}`,
    };
    await this.runner.run(
      subject,
      databaseLockKey(database.environmentId, database.name),
      async () => {
        const current = await this.databases.find(database.id);
        if (!current || current.status !== 'ready' || current.infraId !== database.infraId) {
          throw new ConflictError(
            `Database ${database.name} is ${current?.status ?? 'gone'}: only a ready database can change plan.`,
          );
        }
        const { provider, target } = await this.infras.connect(current.infraId);
        const users = current.credentials.map((credential) => credential.user);
        const limits = { maxConnections: plan.maxConnections };
        await provider.applyLimits(target, current.name, users, limits);
        try {
          await this.databases.changePlan(current.id, plan.planId);
        } catch (error) {
          // The row keeps its plan: so do the engine's limits.
          const before = { maxConnections: current.maxConnections };
          await provider.applyLimits(target, current.name, users, before).catch(() => undefined);
          throw error;
        }
        await afterChange?.(current.id).catch((error: Error) => {
          this.logger.warn(
            `The step after the plan change of ${current.name} failed: ${error.name}`,
          );
        });
      },
    );
  }

  /** The project a database is filed under, or a validation error on `project`. */
  private async requireProject(id: number): Promise<ProjectRecord> {
    const project = await this.projects.findById(id);
    if (!project) throw new ValidationFailedError({ project: [`no project with id ${id}`] });
    return project;
  }

  /**
   * A database is filed only under a project of its own team (the store enforces it too).
   * Another team's project that the viewer may not see is refused as if it did not exist.
   */
  private assertProjectOfTeam(
    project: ProjectRecord,
    teamId: number,
    viewer: AuthenticatedUser,
  ): void {
    if (!this.policy.canSeeTeam(viewer, project.teamId)) {
      throw new ValidationFailedError({ project: [`no project with id ${project.id}`] });
    }
    if (project.teamId !== teamId) {
      throw new ValidationFailedError({ project: ["belongs to another team than the database's"] });
    }
  }

  /** The size measured now (not from the cache, which keeps it); null if the engine cannot say. */
  measureNow(database: DatabaseRow): Promise<number | null> {
    this.sizes.forget(database.id);
    return this.measure(database);
  }

  private measure(database: DatabaseRow): Promise<number | null> {
    return this.sizes.get(database.id, async () => {
      const { provider, target } = await this.infras.connect(database.infraId);
      return provider.usedSize(target, database.name);
    });
  }

  private view(database: DatabaseRecord, usedSizeInBytes: number | null): DatabaseView {
    const provider = this.infras.providerFor(database.engineType);
    return {
      database,
      engineId: database.engineId,
      endpoint: provider.endpoint(database.addresses, database.name),
      totalSizeInBytes: database.sizeLimitInBytes,
      usedSizeInBytes,
    };
  }
}
