import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { placementChoiceSql, roomOnInfraSql } from '@dbaas/catalog';
import { assertTransition, ConflictError, normalizeName, QuotaExceededError } from '@dbaas/core';
import { advisoryLockId } from '@dbaas/operations';
import {
  DatabaseEntity,
  DatabaseStatus,
  jsonColumn,
  translateStoreErrors,
} from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository, SelectQueryBuilder } from 'typeorm';
import { DATABASE_TRANSITIONS } from './database-states';

/** A database row as stored (the `database` table). */
export interface DatabaseRow {
  id: number;
  name: string;
  description: string;
  planId: number;
  environmentId: number;
  infraId: number;
  projectId: number | null;
  teamId: number;
  status: DatabaseStatus;
  /** YYYY-MM-DD, the day it entered quarantine. */
  quarantineDt: string | null;
  /** While true, a DELETE is refused. */
  isProtected: boolean;
  /** At most 20 (the API checks each; the store checks the count). */
  tags: string[];
  createdAt: Date;
  /** Over its plan's size limit: its credentials' writes are blocked on the engine. */
  overSizeLimit: boolean;
  /**
   * While `moving`: the other end of the move, the target until the switch and the source
   * after it (DatabaseMoves); null otherwise. Absent on rows not read from the store.
   */
  moveInfraId?: number | null;
  /** While `moving`: the plan that goes with `moveInfraId`. */
  movePlanId?: number | null;
}

/**
 * A database as the API shows it, read in one statement: the row, its plan's size limit,
 * its infra's addresses and engine, and its credentials (id and user).
 */
export interface DatabaseRecord extends DatabaseRow {
  sizeLimitInBytes: number;
  /** The plan's connection limit; 0 = none. */
  maxConnections: number;
  addresses: string[];
  engineId: number;
  engineType: string;
  credentials: { id: number; user: string }[];
}

/** A new row: `creating`, on the infra whose slot it claims (unprotected, untagged unless given). */
export type NewDatabase = Omit<
  DatabaseRow,
  | 'id'
  | 'status'
  | 'quarantineDt'
  | 'createdAt'
  | 'isProtected'
  | 'tags'
  | 'moveInfraId'
  | 'movePlanId'
  | 'overSizeLimit'
> &
  Partial<Pick<DatabaseRow, 'isProtected' | 'tags'>>;

/** A database the size-limit check looks at: its row and its plan's limit (0 = none). */
export interface SizeLimitRow extends DatabaseRow {
  sizeLimitInBytes: number;
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
  /** Only those carrying every one of these tags. */
  tags?: string[];
}

/**
 * What a create checks in the catalog, as one row whatever exists: the plan (null if there
 * is none) and its engine type, whether the environment exists, whether the plan is offered
 * there, whether the name is taken there, and the infra a new database would go to (null
 * if none has room).
 */
export interface CreateChecks {
  planId: number | null;
  isActive: boolean;
  sizeLimitInBytes: number;
  maxConnections: number;
  engineType: string | null;
  environmentExists: boolean;
  offered: boolean;
  taken: boolean;
  infraId: number | null;
}

/**
 * What a plan change checks, as one row whatever exists: the new plan (null if there is
 * none), whether it is active, its engine type and limits, whether it is offered in the
 * database's environment, whether the database's infra serves it, and the infra a move
 * would go to (null if none has room).
 */
export interface PlanChangeChecks {
  planId: number | null;
  isActive: boolean;
  sizeLimitInBytes: number;
  maxConnections: number;
  engineType: string | null;
  offered: boolean;
  servedHere: boolean;
  infraId: number | null;
}

/** How long a list total is reused (see DatabaseRepository.count). */
const COUNT_CACHE_MS = 2_000;

/**
 * The `database` table, owned by the databases lib. The detail and list reads are
 * hand-written and fused (one statement each, see `find` and `page`); every status change
 * goes through `transition`, which refuses a move DATABASE_TRANSITIONS does not allow.
 *
 * The list totals are cached for COUNT_CACHE_MS per scope and filter; every write method
 * here drops them (`changed`), so this process never shows a total older than its own writes.
 */
@Injectable()
export class DatabaseRepository {
  private readonly counts = new Map<string, { at: number; count: Promise<number> }>();

  constructor(
    @InjectRepository(DatabaseEntity) private readonly databases: Repository<DatabaseEntity>,
    @InjectDataSource() private readonly store: DataSource,
    private readonly policy: AccessPolicy,
  ) {}

  /** Every write to database rows ends here: the cached list totals are dropped. */
  private changed(): void {
    this.counts.clear();
  }

  /** One database with what the API shows of it, in one statement (the detail's hot path). */
  async find(id: number): Promise<DatabaseRecord | null> {
    const [raw] = await this.databases.query<ListRow[]>(ONE_DATABASE_SQL, [id]);
    return raw ? fromListRow(raw) : null;
  }

  /** The row alone, or null. */
  async findRow(id: number): Promise<DatabaseRow | null> {
    const [raw] = await this.databases.query<RawRow[]>(
      `SELECT ${ROW_COLUMNS} FROM database WHERE id = $1`,
      [id],
    );
    return raw ? fromRow(raw) : null;
  }

  /** The rows in these states, oldest first. */
  async inStates(states: readonly DatabaseStatus[]): Promise<DatabaseRow[]> {
    const rows = await this.databases.query<RawRow[]>(
      `SELECT ${ROW_COLUMNS} FROM database WHERE status = ANY($1::varchar[]) ORDER BY id`,
      [states],
    );
    return rows.map(fromRow);
  }

  /** The rows of these ids, oldest first. */
  async findRows(ids: number[]): Promise<DatabaseRow[]> {
    if (!ids.length) return [];
    const rows = await this.databases.query<RawRow[]>(
      `SELECT ${ROW_COLUMNS} FROM database WHERE id = ANY($1::int[]) ORDER BY id`,
      [ids],
    );
    return rows.map(fromRow);
  }

  /** Every row, oldest first. */
  async all(): Promise<DatabaseRow[]> {
    const rows = await this.databases.query<RawRow[]>(
      `SELECT ${ROW_COLUMNS} FROM database ORDER BY id`,
    );
    return rows.map(fromRow);
  }

  /**
   * The databases quarantined on or before `day` (YYYY-MM-DD), oldest first, but for the
   * protected ones (the purge keeps them until a dba lifts the protection).
   */
  async quarantinedSince(day: string): Promise<DatabaseRow[]> {
    const rows = await this.databases.query<RawRow[]>(
      `SELECT ${ROW_COLUMNS} FROM database
        WHERE status = 'quarantined' AND quarantine_dt <= $1::date AND NOT is_protected
        ORDER BY id`,
      [day],
    );
    return rows.map(fromRow);
  }

  /**
   * One page of the databases the viewer may see, and the total. The page is one statement
   * (the rows joined with their plan, infra and engine type, the credentials as one JSON
   * column: nothing per row); the total is counted on the database table alone, in
   * parallel, and cached (`count`).
   */
  async page(
    viewer: AuthenticatedUser,
    filter: DatabaseFilter,
    skip: number,
    take: number,
  ): Promise<{ items: DatabaseRecord[]; count: number }> {
    const pageQuery = this.filtered(viewer, filter, true)
      .select(LIST_COLUMNS)
      .addSelect(CREDENTIALS_JSON, 'credentials')
      .orderBy('database.id', 'ASC')
      .offset(skip)
      .limit(take);
    const [raws, count] = await Promise.all([
      pageQuery.getRawMany<ListRow>(),
      this.count(viewer, filter),
    ]);
    return { items: raws.map(fromListRow), count };
  }

  /** The create's catalog checks in one statement (see CreateChecks). */
  async createChecks(planId: number, environmentId: number, name: string): Promise<CreateChecks> {
    const [found] = await this.databases.query<RawCreateChecks[]>(CREATE_CHECKS_SQL, [
      planId,
      environmentId,
      name,
    ]);
    return {
      ...planFieldsOf(found),
      environmentExists: found.environment_exists,
      offered: found.offered,
      taken: found.taken,
      infraId: found.infra_id === null ? null : Number(found.infra_id),
    };
  }

  /** A plan change's catalog checks in one statement (see PlanChangeChecks). */
  async planChangeChecks(
    planId: number,
    database: Pick<DatabaseRow, 'infraId' | 'environmentId'>,
  ): Promise<PlanChangeChecks> {
    const [found] = await this.databases.query<RawPlanChangeChecks[]>(PLAN_CHANGE_CHECKS_SQL, [
      planId,
      database.infraId,
      database.environmentId,
    ]);
    return {
      ...planFieldsOf(found),
      offered: found.offered,
      servedHere: found.served_here,
      infraId: found.infra_id === null ? null : Number(found.infra_id),
    };
  }

  /** The plan of a ready database whose infra serves the new plan (the caller holds its lock). */
  async changePlan(id: number, planId: number): Promise<void> {
    const [{ changed }] = await this.databases.query<{ changed: number }[]>(
      `WITH changed AS (
         UPDATE database SET plan_id = $2, updated_at = now()
          WHERE id = $1 AND status = 'ready' RETURNING id
       ) SELECT count(*)::int AS changed FROM changed`,
      [id, planId],
    );
    this.changed();
    if (changed === 0) throw new ConflictError(`database ${id} is no longer ready.`);
  }

  /**
   * A ready database starts moving to `infraId` (of `planId`): `moving`, with the target
   * as the other end of the move, if the target still has room (under its store lock, as a
   * create's claim: a moving database holds a slot on both infras). False when it is full.
   */
  async startMove(id: number, infraId: number, planId: number): Promise<boolean> {
    assertTransition(DATABASE_TRANSITIONS, `database ${id}`, 'ready', 'moving');
    const moved = await this.store.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1::bigint)', [
        advisoryLockId(`store:infra:${infraId}`),
      ]);
      const [ready] = await manager.query<{ id: number }[]>(
        `SELECT id FROM database WHERE id = $1 AND status = 'ready'`,
        [id],
      );
      if (!ready) throw new ConflictError(`database ${id} is no longer ready.`);
      // A SELECT around the UPDATE: its rows are what the driver returns (an UPDATE's are not).
      const [{ moved }] = await manager.query<{ moved: number }[]>(
        `WITH moved AS (
           UPDATE database SET status = 'moving', move_infra_id = $2, move_plan_id = $3, updated_at = now()
            WHERE id = $1 AND status = 'ready' AND ${roomOnInfraSql('$2::int')}
            RETURNING id
         ) SELECT count(*)::int AS moved FROM moved`,
        [id, infraId, planId],
      );
      return moved > 0;
    });
    this.changed();
    return moved;
  }

  /**
   * The switch of a move: the row now points at the target (infra and plan) and the other
   * end of the move is the source, in one statement (the right-hand sides are the old
   * values). Its endpoint changes with it.
   */
  async switchMove(id: number): Promise<void> {
    const [{ switched }] = await this.databases.query<{ switched: number }[]>(
      `WITH switched AS (
         UPDATE database
            SET infra_id = move_infra_id, move_infra_id = infra_id,
                plan_id = move_plan_id, move_plan_id = plan_id, updated_at = now()
          WHERE id = $1 AND status = 'moving' RETURNING id
       ) SELECT count(*)::int AS switched FROM switched`,
      [id],
    );
    this.changed();
    if (switched === 0) throw new ConflictError(`database ${id} is no longer moving.`);
  }

  /**
   * A move ends (moved or rolled back): `ready`, no other end. Its logins were made again
   * (or given back) with their full privileges, so it is not marked over its size limit any
   * more: the size-limit check blocks writes again if it still is (SizeLimitCheck).
   */
  async endMove(id: number): Promise<void> {
    assertTransition(DATABASE_TRANSITIONS, `database ${id}`, 'moving', 'ready');
    const [{ ended }] = await this.databases.query<{ ended: number }[]>(
      `WITH ended AS (
         UPDATE database SET status = 'ready', move_infra_id = NULL, move_plan_id = NULL,
                             over_size_limit = false, updated_at = now()
          WHERE id = $1 AND status = 'moving' RETURNING id
       ) SELECT count(*)::int AS ended FROM ended`,
      [id],
    );
    this.changed();
    if (ended === 0) throw new ConflictError(`database ${id} is no longer moving.`);
  }

  /** The infra a new database of the plan would go to now, or null if none has room. */
  async nextPlacement(planId: number, environmentId: number): Promise<number | null> {
    const [again] = await this.databases.query<{ infra_id: number | null }[]>(
      `SELECT ${placementChoiceSql('$1::int', '$2::int')} AS infra_id`,
      [planId, environmentId],
    );
    return again.infra_id === null ? null : Number(again.infra_id);
  }

  /**
   * Writes the new row (`creating`) if its infra still has room and its team is under its
   * `database_limit`, under two transaction-level advisory locks (the team's, then the
   * infra's: always in that order, so claims never deadlock), so two creates cannot both
   * take an infra's last slot or a team's last database (in this process or another).
   * Null when the infra was full; QuotaExceededError (409) when the team is at its limit;
   * a name taken meanwhile is a 409. Every path that makes a database row (create, clone,
   * from_backup) claims it here, so the team quota holds for each of them.
   */
  async claimSlot(row: NewDatabase): Promise<DatabaseRow | null> {
    const claimed = await translateStoreErrors('database', () =>
      this.store.transaction(async (manager) => {
        for (const key of [`store:team:${row.teamId}`, `store:infra:${row.infraId}`])
          await manager.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockId(key)]);
        const [quota] = await manager.query<{ database_limit: number; used: string | number }[]>(
          `SELECT database_limit, (SELECT COUNT(*) FROM database WHERE team_id = team.id) AS used
             FROM team WHERE id = $1`,
          [row.teamId],
        );
        if (quota && quota.database_limit > 0 && Number(quota.used) >= quota.database_limit)
          return { quotaLimit: Number(quota.database_limit) };
        const inserted = await manager.query<{ id: number; created_at: Date | string }[]>(
          `INSERT INTO database (name, description, plan_id, environment_id, infra_id, project_id, team_id, status, is_protected, tags)
           SELECT $1::varchar, $2::varchar, $3::int, $4::int, $5::int, $6::int, $7::int, 'creating', $8::boolean, $9::text[]
            WHERE ${roomOnInfraSql('$5::int')}
           RETURNING id, created_at`,
          [
            row.name,
            row.description,
            row.planId,
            row.environmentId,
            row.infraId,
            row.projectId,
            row.teamId,
            row.isProtected ?? false,
            row.tags ?? [],
          ],
        );
        return { created: inserted[0] };
      }),
    );
    if ('quotaLimit' in claimed) {
      throw new QuotaExceededError(
        `The team has reached its limit of ${claimed.quotaLimit} database${claimed.quotaLimit === 1 ? '' : 's'}: delete one (quarantined ones count until they are removed) or ask a dba to raise it.`,
      );
    }
    const { created } = claimed;
    if (!created) return null;
    this.changed();
    return {
      ...row,
      isProtected: row.isProtected ?? false,
      tags: row.tags ?? [],
      id: Number(created.id),
      status: 'creating',
      quarantineDt: null,
      createdAt: new Date(created.created_at),
      overSizeLimit: false,
    };
  }

  /**
   * Moves a database from `from` to `to` (DATABASE_TRANSITIONS), with its quarantine date
   * when given. Refused (409) when the table does not allow the move, or when the row is no
   * longer `from`.
   */
  async transition(
    id: number,
    from: DatabaseStatus,
    to: DatabaseStatus,
    extra: { quarantineDt?: string | null } = {},
  ): Promise<void> {
    assertTransition(DATABASE_TRANSITIONS, `database ${id}`, from, to);
    const setDate = extra.quarantineDt !== undefined;
    // A SELECT around the UPDATE: its rows are what the driver returns (an UPDATE's are not).
    const [{ moved }] = await this.databases.query<{ moved: number }[]>(
      `WITH moved AS (
         UPDATE database SET status = $3, updated_at = now()${setDate ? ', quarantine_dt = $4' : ''}
          WHERE id = $1 AND status = $2 RETURNING id
       ) SELECT count(*)::int AS moved FROM moved`,
      setDate ? [id, from, to, extra.quarantineDt] : [id, from, to],
    );
    this.changed();
    if (moved === 0) throw new ConflictError(`database ${id} is no longer ${from}.`);
  }

  /** Changes what may change after creation; a project of another team is a 409 (the store checks). */
  async updateDetails(
    id: number,
    changes: {
      projectId?: number | null;
      description?: string;
      isProtected?: boolean;
      tags?: string[];
    },
  ): Promise<void> {
    if (!Object.keys(changes).length) return;
    await translateStoreErrors('project', () => this.databases.update(id, changes));
    this.changed();
  }

  /**
   * The `ready` databases whose plan has a size limit, or that are marked over one (a
   * limit removed or raised must give their writes back), oldest first; `id`: that one only.
   */
  async underSizeLimits(id?: number): Promise<SizeLimitRow[]> {
    const rows = await this.databases.query<(RawRow & { size_limit_in_bytes: string })[]>(
      `SELECT * FROM (
         SELECT ${ROW_COLUMNS},
                (SELECT size_limit_in_bytes FROM plan WHERE plan.id = database.plan_id) AS size_limit_in_bytes
           FROM database WHERE status = 'ready' AND ($1::int IS NULL OR id = $1)
       ) ready WHERE size_limit_in_bytes > 0 OR over_size_limit ORDER BY id`,
      [id ?? null],
    );
    return rows.map((raw) => ({
      ...fromRow(raw),
      sizeLimitInBytes: Number(raw.size_limit_in_bytes),
    }));
  }

  /** Marks the database over (or back under) its size limit. */
  async setOverSizeLimit(id: number, over: boolean): Promise<void> {
    await this.databases.query('UPDATE database SET over_size_limit = $2 WHERE id = $1', [
      id,
      over,
    ]);
    this.changed();
  }

  /** The row goes (its credentials went first: CredentialsService.forgetAll). */
  async delete(id: number): Promise<void> {
    await this.databases.query('DELETE FROM database WHERE id = $1', [id]);
    this.changed();
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
    // Containment: every tag asked for (the GIN index database_tags serves it).
    if (filter.tags?.length)
      query.andWhere('database.tags @> CAST(:tags AS text[])', { tags: filter.tags });
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
   * scope and filter; any write here empties the cache at once (`changed`).
   */
  private count(viewer: AuthenticatedUser, filter: DatabaseFilter): Promise<number> {
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
      filter.tags?.length ? [...new Set(filter.tags)].sort() : null,
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
}

/** $1 plan, $2 environment, $3 name. */
const CREATE_CHECKS_SQL = `SELECT plan.id AS plan_id, plan.is_active, plan.size_limit_in_bytes, plan.max_connections,
       engine_type.name AS engine_type,
       EXISTS (SELECT 1 FROM environment WHERE id = $2) AS environment_exists,
       EXISTS (SELECT 1 FROM plan_environment pe WHERE pe.plan_id = plan.id AND pe.environment_id = $2) AS offered,
       EXISTS (SELECT 1 FROM database WHERE environment_id = $2 AND name = $3) AS taken,
       ${placementChoiceSql('plan.id', '$2')} AS infra_id
  FROM (SELECT $1::int AS id) wanted
  LEFT JOIN plan ON plan.id = wanted.id
  LEFT JOIN engine ON engine.id = plan.engine_id
  LEFT JOIN engine_type ON engine_type.id = engine.engine_type_id`;

/** $1 plan, $2 the database's infra, $3 its environment. */
const PLAN_CHANGE_CHECKS_SQL = `SELECT plan.id AS plan_id, plan.is_active, plan.size_limit_in_bytes, plan.max_connections,
       engine_type.name AS engine_type,
       EXISTS (SELECT 1 FROM plan_environment pe WHERE pe.plan_id = plan.id AND pe.environment_id = $3) AS offered,
       EXISTS (SELECT 1 FROM infra_plan ip WHERE ip.plan_id = plan.id AND ip.infra_id = $2) AS served_here,
       ${placementChoiceSql('plan.id', '$3')} AS infra_id
  FROM (SELECT $1::int AS id) wanted
  LEFT JOIN plan ON plan.id = wanted.id
  LEFT JOIN engine ON engine.id = plan.engine_id
  LEFT JOIN engine_type ON engine_type.id = engine.engine_type_id`;

interface RawPlanChangeChecks {
  plan_id: number | null;
  is_active: boolean | null;
  size_limit_in_bytes: string | number | null;
  max_connections: number | null;
  engine_type: string | null;
  offered: boolean;
  served_here: boolean;
  infra_id: number | null;
}

interface RawCreateChecks {
  plan_id: number | null;
  is_active: boolean | null;
  size_limit_in_bytes: string | number | null;
  max_connections: number | null;
  engine_type: string | null;
  environment_exists: boolean;
  offered: boolean;
  taken: boolean;
  infra_id: number | null;
}

/** The row's columns; quarantine_dt as text (YYYY-MM-DD). */
const ROW_COLUMNS = `id, name, description, plan_id, environment_id, infra_id, project_id, team_id,
  status, quarantine_dt::text AS quarantine_dt, is_protected, tags, created_at, over_size_limit,
  move_infra_id, move_plan_id`;

interface RawRow {
  id: number;
  name: string;
  description: string;
  plan_id: number;
  environment_id: number;
  infra_id: number;
  project_id: number | null;
  team_id: number;
  status: DatabaseStatus;
  quarantine_dt: string | null;
  is_protected: boolean;
  tags: string[] | null;
  created_at: Date | string;
  over_size_limit: boolean;
  move_infra_id?: number | null;
  move_plan_id?: number | null;
}

/** The columns a list item needs; quarantine_dt as text (YYYY-MM-DD). */
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
  'database.is_protected AS is_protected',
  'database.tags AS tags',
  'database.created_at AS created_at',
  'database.over_size_limit AS over_size_limit',
  'database.move_infra_id AS move_infra_id',
  'database.move_plan_id AS move_plan_id',
  'plan.size_limit_in_bytes AS size_limit_in_bytes',
  'plan.max_connections AS max_connections',
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

interface ListRow extends RawRow {
  size_limit_in_bytes: string | number;
  max_connections: number;
  addresses: string[];
  engine_id: number;
  engine_type: string;
  credentials: { id: number; user: string }[] | null;
}

function fromRow(raw: RawRow): DatabaseRow {
  return {
    id: Number(raw.id),
    name: raw.name,
    description: raw.description,
    planId: Number(raw.plan_id),
    environmentId: Number(raw.environment_id),
    infraId: Number(raw.infra_id),
    projectId: raw.project_id === null ? null : Number(raw.project_id),
    teamId: Number(raw.team_id),
    status: raw.status,
    quarantineDt: raw.quarantine_dt,
    isProtected: raw.is_protected === true,
    tags: raw.tags ?? [],
    createdAt: raw.created_at instanceof Date ? raw.created_at : new Date(raw.created_at),
    overSizeLimit: raw.over_size_limit === true,
    moveInfraId: raw.move_infra_id == null ? null : Number(raw.move_infra_id),
    movePlanId: raw.move_plan_id == null ? null : Number(raw.move_plan_id),
  };
}

function fromListRow(raw: ListRow): DatabaseRecord {
  return {
    ...fromRow(raw),
    sizeLimitInBytes: Number(raw.size_limit_in_bytes),
    maxConnections: Number(raw.max_connections ?? 0),
    addresses: jsonColumn<string[]>(raw.addresses, []),
    engineId: Number(raw.engine_id),
    engineType: raw.engine_type,
    credentials: jsonColumn<{ id: number; user: string }[]>(raw.credentials, []).map((c) => ({
      id: Number(c.id),
      user: c.user,
    })),
  };
}

/** The plan's fields both catalog checks read (createChecks, planChangeChecks). */
function planFieldsOf(found: RawCreateChecks | RawPlanChangeChecks) {
  return {
    planId: found.plan_id === null ? null : Number(found.plan_id),
    isActive: found.is_active === true,
    sizeLimitInBytes: Number(found.size_limit_in_bytes ?? 0),
    maxConnections: Number(found.max_connections ?? 0),
    engineType: found.engine_type,
  };
}
