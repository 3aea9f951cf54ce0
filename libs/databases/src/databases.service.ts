import { AccessPolicy, AuthenticatedUser, TeamsService } from '@dbaas/auth';
import { NO_CAPACITY_MESSAGE, placementChoiceSql, roomOnInfraSql } from '@dbaas/catalog';
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
import { ConnectedInfra, EngineProvider, InfraAccess } from '@dbaas/engines';
import { databaseLockKey, DatabaseLocks, OperationRunner } from '@dbaas/operations';
import {
  CredentialEntity,
  DatabaseEntity,
  DatabaseStatus,
  InfraEntity,
  jsonColumn,
  PlanEntity,
  ProjectEntity,
  requireOne,
  translateStoreErrors,
} from '@dbaas/persistence';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, EntitySubscriberInterface, Repository, SelectQueryBuilder } from 'typeorm';
import { UsedSizeCache } from './used-size.cache';

export interface DatabaseInput {
  name: string;
  plan: number;
  environment: number;
  project?: number | null;
  team?: number;
  description?: string;
}

export interface DatabaseChanges {
  project?: number | null;
  description?: string;
  /** Read-only after creation: accepted only when unchanged. */
  name?: string;
  plan?: number;
  environment?: number;
}

export interface DatabaseFilter {
  name?: string;
  environment?: number;
  plan?: number;
  project?: number;
  team?: number;
  engine?: number;
  /** dba only: true = only quarantined, false = only live. */
  quarantine?: boolean;
}

/** A database as the API shows it: the record plus what comes from its engine. */
export interface DatabaseView {
  database: DatabaseEntity;
  engineId: number;
  endpoint: string;
  totalSizeInBytes: number;
  usedSizeInBytes: number | null;
}

/** The created database with the password of its default credential. */
export interface CreatedDatabase extends DatabaseView {
  defaultPassword: string;
}

/** The value of a settled lookup, or its error thrown now. */
function valueOf<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

@Injectable()
export class DatabasesService {
  private readonly logger = new Logger('Databases');
  private readonly sizes: UsedSizeCache;

  constructor(
    @InjectRepository(DatabaseEntity) private readonly databases: Repository<DatabaseEntity>,
    @InjectRepository(ProjectEntity) private readonly projects: Repository<ProjectEntity>,
    private readonly teams: TeamsService,
    private readonly infras: InfraAccess,
    private readonly credentials: CredentialsService,
    private readonly policy: AccessPolicy,
    private readonly runner: OperationRunner,
    private readonly locks: DatabaseLocks,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.sizes = new UsedSizeCache(config.usedSizeCacheSeconds * 1000);
    // Any write to a database row through this process drops the cached list counts.
    const forgetCounts = () => this.counts.clear();
    const subscriber: EntitySubscriberInterface<DatabaseEntity> = {
      listenTo: () => DatabaseEntity,
      afterInsert: forgetCounts,
      afterUpdate: forgetCounts,
      afterRemove: forgetCounts,
      afterSoftRemove: forgetCounts,
    };
    this.databases.manager.connection.subscribers.push(subscriber);
  }

  /** List totals by scope and filter, for COUNT_CACHE_MS; emptied by every database write here. */
  private readonly counts = new Map<string, { at: number; count: Promise<number> }>();

  /**
   * One page of the databases the viewer may see. Three queries at most, two of them in
   * parallel: the page (database rows joined with their plan, infra and engine type, the
   * credentials as one JSON column), the total on the database table alone (cached for a
   * moment, see `countOf`), and nothing per row.
   */
  async list(
    page: PageRequest,
    viewer: AuthenticatedUser,
    filter: DatabaseFilter,
  ): Promise<Page<DatabaseView>> {
    const { skip, take } = skipTake(page);
    const pageQuery = this.filtered(viewer, filter, true)
      .select(LIST_COLUMNS)
      .addSelect(CREDENTIALS_JSON, 'credentials')
      .orderBy('database.id', 'ASC')
      .offset(skip)
      .limit(take);
    const [raws, count] = await Promise.all([
      pageQuery.getRawMany<ListRow>(),
      this.countOf(viewer, filter),
    ]);
    const rows = raws.map(fromListRow);
    // Lists show the last measured size and refresh it in the background: never wait on an engine.
    for (const row of rows) if (this.sizes.isStale(row.id)) void this.measure(row);
    return { items: rows.map((row) => this.view(row, this.sizes.peek(row.id))), count };
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

  /** The database with its infra, plan and credentials, or 404 for the viewer. */
  async findVisible(id: number, viewer: AuthenticatedUser): Promise<DatabaseEntity> {
    const database = await this.find(id);
    if (!database || !this.policy.canSeeDatabase(viewer, database))
      throw new NotFoundError('database', id);
    return database;
  }

  /**
   * One database as a list row, whoever may see it (callers check). Every detail,
   * delete and operation step reads it: the list's columns in hand-written SQL.
   */
  async find(id: number): Promise<DatabaseEntity | null> {
    const [raw] = await this.databases.query<ListRow[]>(ONE_DATABASE_SQL, [id]);
    return raw ? fromListRow(raw) : null;
  }

  /**
   * Moves a database to a lifecycle state (with its quarantine date, when given), in one
   * statement. The cached list totals are dropped: some filters count by state.
   */
  async setStatus(id: number, status: DatabaseStatus, quarantineDt?: string | null): Promise<void> {
    if (quarantineDt === undefined) {
      await this.write('UPDATE database SET status = $2, updated_at = now() WHERE id = $1', [
        id,
        status,
      ]);
    } else {
      await this.write(
        'UPDATE database SET status = $2, quarantine_dt = $3, updated_at = now() WHERE id = $1',
        [id, status, quarantineDt],
      );
    }
  }

  /** A hand-written write to database rows; the cached list totals are dropped with it. */
  private async write(sql: string, params: unknown[]): Promise<void> {
    await this.databases.query(sql, params);
    this.counts.clear();
  }

  /**
   * Creates the database on the engine with its default credential `u_<name>`, as a task
   * holding the lock of (environment, name). The row is written first (status
   * `creating`), so the name is claimed before any engine work; if the engine fails,
   * everything made so far is undone and the row removed. If the process dies instead,
   * the reconciler finds the `creating` row and does the same.
   */
  async create(input: DatabaseInput, viewer: AuthenticatedUser): Promise<CreatedDatabase> {
    const name = normalizeName(input.name);
    // The lookups run together (the catalog checks as one query); their answers are
    // checked in the order of the rules.
    const [checks, team, project] = await Promise.allSettled([
      this.databases.query<CreateChecks[]>(CREATE_CHECKS_SQL, [
        input.plan,
        input.environment,
        name,
      ]),
      this.teams.owningTeam(input.team, viewer),
      input.project != null ? requireOne(this.projects, 'project', 'project', input.project) : null,
    ]);
    const [found] = valueOf(checks);
    if (found.plan_id === null)
      throw new ValidationFailedError({ plan: [`no plan with id ${input.plan}`] });
    if (!found.environment_exists) {
      throw new ValidationFailedError({
        environment: [`no environment with id ${input.environment}`],
      });
    }
    if (!found.is_active || !found.offered) {
      throw new ValidationFailedError({ plan: ['this plan is not offered in this environment'] });
    }
    const chosenPlan = {
      id: Number(found.plan_id),
      sizeLimitInBytes: Number(found.size_limit_in_bytes),
    } as PlanEntity;
    const provider = this.infras.providerFor(found.engine_type!);
    const problem =
      nameProblem(name) ??
      (provider.reservedNames.includes(name) ? `"${name}" is reserved by the engine` : null);
    if (problem) throw new ValidationFailedError({ name: [problem] });
    const teamId = valueOf(team);
    const filedUnder = valueOf(project);
    if (filedUnder) this.assertProjectOfTeam(filedUnder, teamId, viewer);
    if (found.taken)
      throw new ConflictError(`A database named ${name} already exists in this environment.`);
    const subject = {
      type: 'create_database' as const,
      userId: viewer.id,
      databaseName: name,
      teamId,
    };
    const lockKey = databaseLockKey(input.environment, name);
    let failed: DatabaseEntity | undefined;
    const made = await this.runner
      .run(subject, lockKey, async (task) => {
        const row = this.databases.create({
          name,
          description: input.description ?? '',
          planId: chosenPlan.id,
          environmentId: input.environment,
          projectId: input.project ?? null,
          teamId,
          status: 'creating',
          quarantineDt: null,
        });
        const { infra, target } = await this.claimSlot(row, found.infra_id, provider, task.id);
        try {
          await provider.createDatabase(target, name);
          const { credential, password } = await this.credentials.createFor(
            row,
            defaultUserName(name, provider.userNameMaxLength),
            'owner',
            { markReady: false },
          );
          // The owner and the database become ready together.
          await this.write(
            `WITH owner AS (UPDATE credential SET status = 'ready' WHERE id = $2)
           UPDATE database SET status = 'ready', updated_at = now() WHERE id = $1`,
            [row.id, credential.id],
          );
          credential.status = 'ready';
          row.status = 'ready';
          row.plan = chosenPlan;
          row.infra = infra;
          row.credentials = [credential];
          return { row, password };
        } catch (error) {
          failed = row;
          throw error;
        }
      })
      .catch((error: unknown) => {
        // The caller gets its answer now; the rollback may have to wait for a hung engine.
        if (failed) void this.rollBack(failed, lockKey);
        throw error;
      });
    // The answer comes from the rows in hand; the used size is measured on the first detail.
    return { ...this.view(made.row, null), defaultPassword: made.password };
  }

  /**
   * Writes the new row (`creating`) on an infra with room: the one chosen with the create's
   * checks or, if its last slot went meanwhile, the next one (PLACEMENT_ATTEMPTS at most).
   * Before each, its engine must answer (a 503 before anything is written) and must not
   * have the name, whoever made it (EngineProvider.databaseExists; on Redis any key of the
   * prefix counts), so a database dbaas did not make is never taken over (creates converge on
   * what exists). The slot is taken under the infra's lock, so two creates of different
   * names cannot both take its last one.
   */
  private async claimSlot(
    row: DatabaseEntity,
    chosen: number | null,
    provider: EngineProvider,
    taskId: number,
  ): Promise<ConnectedInfra> {
    let infraId = chosen === null ? null : Number(chosen);
    for (let attempt = 1; ; attempt++) {
      if (infraId === null) throw new NoCapacityError(NO_CAPACITY_MESSAGE);
      const connected = await this.infras.connect(infraId);
      if (await provider.databaseExists(connected.target, row.name)) {
        throw new ConflictError(
          `A database named ${row.name} already exists on the engine server.`,
        );
      }
      row.infraId = infraId;
      const placed = await this.locks.withStoreLock(`infra:${infraId}`, (manager) =>
        this.insertIfRoom(manager, row, taskId),
      );
      if (placed) return connected;
      if (attempt === PLACEMENT_ATTEMPTS) throw new NoCapacityError(NO_CAPACITY_MESSAGE);
      const [again] = await this.databases.query<{ infra_id: number | null }[]>(
        `SELECT ${placementChoiceSql('$1::int', '$2::int')} AS infra_id`,
        [row.planId, row.environmentId],
      );
      infraId = again.infra_id === null ? null : Number(again.infra_id);
    }
  }

  /**
   * Writes the new row (`creating`) if its infra still has room, and links the create's
   * task to it, in one statement; the caller holds the infra's store lock. The id and
   * timestamps land on `row`; false when the infra was full.
   */
  private async insertIfRoom(
    manager: EntityManager,
    row: DatabaseEntity,
    taskId: number,
  ): Promise<boolean> {
    const [inserted] = await translateStoreErrors('database', () =>
      manager.query<{ id: number; created_at: Date | string; updated_at: Date | string }[]>(
        `WITH inserted AS (
           INSERT INTO database (name, description, plan_id, environment_id, infra_id, project_id, team_id, status)
           SELECT $1::varchar, $2::varchar, $3::int, $4::int, $5::int, $6::int, $7::int, $8::varchar
            WHERE ${roomOnInfraSql('$5::int')}
           RETURNING id, created_at, updated_at
         ), linked AS (
           UPDATE task SET database_id = inserted.id FROM inserted WHERE task.id = $9
         )
         SELECT id, created_at, updated_at FROM inserted`,
        [
          row.name,
          row.description,
          row.planId,
          row.environmentId,
          row.infraId,
          row.projectId,
          row.teamId,
          row.status,
          taskId,
        ],
      ),
    );
    if (!inserted) return false;
    this.counts.clear();
    row.id = Number(inserted.id);
    row.createdAt = new Date(inserted.created_at);
    row.updatedAt = new Date(inserted.updated_at);
    return true;
  }

  /** Undoes a failed create under its lock; what it cannot finish, the reconciler will. */
  private async rollBack(row: DatabaseEntity, lockKey: string): Promise<void> {
    await this.locks
      .withLock(lockKey, async () => {
        // Another process's reconciler may have cleaned up meanwhile, and a new create of
        // the same name may have succeeded: only the row this create wrote is undone.
        const current = await this.databases.findOneBy({ id: row.id });
        if (current && (current.status === 'creating' || current.status === 'deleting'))
          await this.destroy(current);
      })
      .catch((error: Error) =>
        this.logger.warn(`Rollback of ${row.name} left work for the reconciler: ${error.message}`),
      );
  }

  /**
   * Drops every user and the database on the engine, then the records (the database row
   * and its credentials, in one statement); idempotent, so a retry after a failure
   * converges (the row stays `deleting` until then). The caller holds the database's lock;
   * `database.credentials`, when set, were read under it (see CredentialsService.dropUsers).
   */
  async destroy(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    // The credentials too: until the rows go, they show that their logins are going.
    await this.write(
      `WITH users AS (UPDATE credential SET status = 'deleting' WHERE database_id = $1)
       UPDATE database SET status = 'deleting', updated_at = now() WHERE id = $1`,
      [database.id],
    );
    await this.credentials.dropUsers(database);
    testFault('users-dropped', database.name);
    await provider.dropDatabase(target, database.name);
    await this.write(
      'WITH users AS (DELETE FROM credential WHERE database_id = $1) DELETE FROM database WHERE id = $1',
      [database.id],
    );
    this.sizes.forget(database.id);
  }

  /** 503 before any state changes when the engine does not answer. */
  async ensureReachable(database: DatabaseEntity): Promise<void> {
    const { provider, target } = await this.infras.connect(database.infraId);
    await provider.ping(target);
  }

  async update(
    id: number,
    changes: DatabaseChanges,
    viewer: AuthenticatedUser,
  ): Promise<DatabaseView> {
    const database = await this.findVisible(id, viewer);
    const errors: Record<string, string[]> = {};
    if (changes.name !== undefined && normalizeName(changes.name) !== database.name)
      errors.name = ['is read-only after creation'];
    if (changes.plan !== undefined && changes.plan !== database.planId)
      errors.plan = ['is read-only after creation'];
    if (changes.environment !== undefined && changes.environment !== database.environmentId) {
      errors.environment = ['is read-only after creation'];
    }
    if (Object.keys(errors).length) throw new ValidationFailedError(errors);
    if (changes.project != null) {
      const project = await requireOne(this.projects, 'project', 'project', changes.project);
      this.assertProjectOfTeam(project, database.teamId, viewer);
    }
    const update: Partial<DatabaseEntity> = {};
    if (changes.project !== undefined) update.projectId = changes.project;
    if (changes.description !== undefined) update.description = changes.description;
    // The store checks the project's team too: a project moved meanwhile is a 409.
    if (Object.keys(update).length) {
      await translateStoreErrors('project', () => this.databases.update(id, update));
    }
    return this.get(id, viewer);
  }

  /**
   * A database is filed only under a project of its own team (the store enforces it too).
   * Another team's project that the viewer may not see is refused as if it did not exist.
   */
  private assertProjectOfTeam(
    project: ProjectEntity,
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

  /**
   * The databases the viewer may see, with the list filters. `joinEngine`: also join plan,
   * infra, engine and engine type (inner, many-to-one: never more rows); otherwise infra is
   * joined only when the engine filter needs it.
   */
  private filtered(
    viewer: AuthenticatedUser,
    filter: DatabaseFilter,
    joinEngine: boolean,
  ): SelectQueryBuilder<DatabaseEntity> {
    const query = this.databases.createQueryBuilder('database');
    if (joinEngine) {
      query
        .innerJoin('database.plan', 'plan')
        .innerJoin('database.infra', 'infra')
        .innerJoin('infra.engine', 'engine')
        .innerJoin('engine.engineType', 'engineType');
    } else if (filter.engine !== undefined) {
      query.innerJoin('database.infra', 'infra');
    }
    this.policy.scopeDatabases(viewer, query);
    if (filter.name !== undefined)
      query.andWhere('database.name = :name', { name: normalizeName(filter.name) });
    for (const key of ['environment', 'plan', 'project', 'team'] as const) {
      if (filter[key] !== undefined)
        query.andWhere(`database.${key}Id = :${key}`, { [key]: filter[key] });
    }
    if (filter.engine !== undefined)
      query.andWhere('infra.engineId = :engine', { engine: filter.engine });
    if (filter.quarantine !== undefined && this.policy.isDba(viewer)) {
      query.andWhere(
        filter.quarantine ? "database.status = 'quarantined'" : "database.status <> 'quarantined'",
      );
    }
    return query;
  }

  /**
   * The total for a list: count(*) on the database table alone (plus infra for the engine
   * filter). Counting grows with the table, so the answer is kept for COUNT_CACHE_MS per
   * scope and filter; any database write through this process empties the cache at once.
   */
  private countOf(viewer: AuthenticatedUser, filter: DatabaseFilter): Promise<number> {
    const scope = this.policy.isDba(viewer)
      ? 'dba'
      : `teams:${[...viewer.teamIds].sort((a, b) => a - b).join(',')}`;
    const quarantine = this.policy.isDba(viewer) ? filter.quarantine : undefined;
    const key = JSON.stringify([
      scope,
      filter.name === undefined ? null : normalizeName(filter.name),
      filter.environment ?? null,
      filter.plan ?? null,
      filter.project ?? null,
      filter.team ?? null,
      filter.engine ?? null,
      quarantine ?? null,
    ]);
    const now = Date.now();
    const cached = this.counts.get(key);
    if (cached && now - cached.at < COUNT_CACHE_MS) return cached.count;
    const count = this.filtered(viewer, filter, false)
      .select('COUNT(*)', 'count')
      .getRawOne<{ count: string | number }>()
      .then((row) => Number(row?.count ?? 0));
    const entry = { at: now, count };
    if (this.counts.size >= 1000) this.counts.clear();
    this.counts.set(key, entry);
    count.catch(() => {
      if (this.counts.get(key) === entry) this.counts.delete(key);
    });
    return count;
  }

  private measure(database: DatabaseEntity): Promise<number | null> {
    return this.sizes.get(database.id, async () => {
      const { provider, target } = await this.infras.connect(database.infraId);
      return provider.usedSize(target, database.name);
    });
  }

  private view(database: DatabaseEntity, usedSizeInBytes: number | null): DatabaseView {
    const provider = this.infras.providerFor(database.infra.engine.engineType.name);
    database.credentials?.sort((a, b) => a.id - b.id);
    return {
      database,
      engineId: database.infra.engineId,
      endpoint: provider.endpoint(database.infra.addresses, database.name),
      totalSizeInBytes: database.plan.sizeLimitInBytes,
      usedSizeInBytes,
    };
  }
}

/**
 * What a create checks in the catalog, as one row whatever exists: the plan (null columns
 * if there is none) and its engine type, whether the environment exists, whether the plan
 * is offered there, whether the name is taken there, and the infra a new database would
 * go to (null if none has room). $1 plan, $2 environment, $3 name.
 */
const CREATE_CHECKS_SQL = `SELECT plan.id AS plan_id, plan.is_active, plan.size_limit_in_bytes,
       engine_type.name AS engine_type,
       EXISTS (SELECT 1 FROM environment WHERE id = $2) AS environment_exists,
       EXISTS (SELECT 1 FROM plan_environment pe WHERE pe.plan_id = plan.id AND pe.environment_id = $2) AS offered,
       EXISTS (SELECT 1 FROM database WHERE environment_id = $2 AND name = $3) AS taken,
       ${placementChoiceSql('plan.id', '$2')} AS infra_id
  FROM (SELECT $1::int AS id) wanted
  LEFT JOIN plan ON plan.id = wanted.id
  LEFT JOIN engine ON engine.id = plan.engine_id
  LEFT JOIN engine_type ON engine_type.id = engine.engine_type_id`;

interface CreateChecks {
  plan_id: number | null;
  is_active: boolean | null;
  size_limit_in_bytes: string | number | null;
  engine_type: string | null;
  environment_exists: boolean;
  offered: boolean;
  taken: boolean;
  infra_id: number | null;
}

/** Infras a create tries when the chosen one fills up meanwhile (see DatabasesService.create). */
const PLACEMENT_ATTEMPTS = 3;

/** How long a list total is reused (see DatabasesService.countOf). */
const COUNT_CACHE_MS = 2_000;

/** The columns a list item needs; quarantine_dt as text (YYYY-MM-DD, as the entity reads it). */
const LIST_COLUMNS = [
  'database.id AS id',
  'database.name AS name',
  'database.description AS description',
  'database.plan_id AS plan_id',
  'database.environment_id AS environment_id',
  'database.infra_id AS infra_id',
  'database.project_id AS project_id',
  'database.team_id AS team_id',
  'database.status AS status',
  'database.quarantine_dt::text AS quarantine_dt',
  'database.created_at AS created_at',
  'plan.size_limit_in_bytes AS size_limit_in_bytes',
  'infra.addresses AS addresses',
  'infra.engine_id AS engine_id',
  '"engineType".name AS engine_type',
];

/** The credentials of a listed database in one column, so a page needs no query per row. */
const CREDENTIALS_JSON = `(SELECT json_agg(json_build_object('id', c.id, 'user', c."user") ORDER BY c.id)
  FROM credential c WHERE c.database_id = database.id)`;

/** The list's row for one database, by id (the aliases are the list query's). */
const ONE_DATABASE_SQL = `SELECT ${LIST_COLUMNS.join(', ')}, ${CREDENTIALS_JSON} AS credentials
  FROM database database
  JOIN plan plan ON plan.id = database.plan_id
  JOIN infra infra ON infra.id = database.infra_id
  JOIN engine engine ON engine.id = infra.engine_id
  JOIN engine_type "engineType" ON "engineType".id = engine.engine_type_id
 WHERE database.id = $1`;

interface ListRow {
  id: number;
  name: string;
  description: string;
  plan_id: number;
  environment_id: number;
  infra_id: number;
  project_id: number | null;
  team_id: number;
  status: DatabaseEntity['status'];
  quarantine_dt: string | null;
  created_at: Date | string;
  size_limit_in_bytes: string | number;
  addresses: string[];
  engine_id: number;
  engine_type: string;
  credentials: { id: number; user: string }[] | null;
}

/** A list row as the entity shape the view and the presenter read (no hydration). */
function fromListRow(raw: ListRow): DatabaseEntity {
  const database = new DatabaseEntity();
  database.id = Number(raw.id);
  database.name = raw.name;
  database.description = raw.description;
  database.planId = Number(raw.plan_id);
  database.environmentId = Number(raw.environment_id);
  database.infraId = Number(raw.infra_id);
  database.projectId = raw.project_id === null ? null : Number(raw.project_id);
  database.teamId = Number(raw.team_id);
  database.status = raw.status;
  database.quarantineDt = raw.quarantine_dt;
  database.createdAt = raw.created_at instanceof Date ? raw.created_at : new Date(raw.created_at);
  database.plan = { sizeLimitInBytes: Number(raw.size_limit_in_bytes) } as PlanEntity;
  database.infra = {
    id: database.infraId,
    addresses: jsonColumn<string[]>(raw.addresses, []),
    engineId: Number(raw.engine_id),
    engine: { engineType: { name: raw.engine_type } },
  } as InfraEntity;
  const credentials = jsonColumn<{ id: number; user: string }[]>(raw.credentials, []);
  database.credentials = credentials.map(
    (c) => ({ id: Number(c.id), user: c.user }) as CredentialEntity,
  );
  return database;
}
