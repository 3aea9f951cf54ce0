import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import { DomainError, NotFoundError, Page, PageRequest, skipTake } from '@dbaas/core';
import { TaskEntity, TaskStatus, TaskType } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import type { Statement } from './database-locks.service';
import { currentOrigin } from './operation-origin';
import { ProcessIdentity } from './process-identity.service';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, SelectQueryBuilder } from 'typeorm';

export interface TaskSubject {
  type: TaskType;
  /** Null for the system's own work. */
  userId: number | null;
  databaseId?: number | null;
  databaseName?: string | null;
  teamId?: number | null;
  origin?: string | null;
}

/**
 * A task recorded without its owner (before owners were recorded) that is still open after
 * this has lost its process: engine statements time out within seconds.
 */
export const INTERRUPTED_AFTER_MS = 10 * 60 * 1000;

/** A task left `waiting` or `running` by a process that has ended. */
export interface InterruptedTask {
  id: number;
  type: TaskType;
  status: 'waiting' | 'running';
  databaseId: number | null;
  databaseName: string | null;
}

/** How an interrupted task ends: what really happened to its work. */
export type TaskOutcome = { status: 'success' } | { status: 'error'; error: string };

export interface TaskFilter {
  database?: number;
  status?: TaskStatus;
  type?: TaskType;
}

/** What a failed task says: a domain error's own message, never a driver's raw text. */
function describe(error: unknown): string {
  if (error instanceof DomainError) return error.message.slice(0, 500);
  if (error instanceof Error && error.name === 'EngineCommandError')
    return error.message.slice(0, 500);
  return 'Internal error; see the server log.';
}

/** The history of every operation that touched an engine. */
@Injectable()
export class TaskHistory {
  constructor(
    @InjectRepository(TaskEntity) private readonly tasks: Repository<TaskEntity>,
    private readonly policy: AccessPolicy,
    private readonly process: ProcessIdentity,
  ) {}

  /**
   * Every operation writes its task at least twice (running, then success or error; first
   * waiting when it has to wait; a create also links its database): plain statements, not
   * the query builder, which would cost more CPU than the writes themselves.
   */
  async open(subject: TaskSubject): Promise<TaskEntity> {
    const { sql, params } = this.insert(subject, `'waiting'`, 'NULL', '');
    const [row] = await this.tasks.query<Record<string, unknown>[]>(sql, params);
    return this.opened(subject, row);
  }

  /**
   * The task's insert for DatabaseLocks' `tryTake`: `running` (started now) if the lock was
   * taken in the same statement, else `waiting`. Its row goes to `opened`.
   */
  openStatement(subject: TaskSubject): Statement {
    return this.insert(
      subject,
      `CASE WHEN acquired.taken THEN 'running' ELSE 'waiting' END`,
      'CASE WHEN acquired.taken THEN now() END',
      'FROM acquired',
    );
  }

  /** The task as written by `open` or `openStatement`, from its returned row. */
  opened(subject: TaskSubject, row: Record<string, unknown>): TaskEntity {
    return this.tasks.create({
      ...this.columns(subject),
      owner: this.process.id,
      id: Number(row.id),
      status: row.status as TaskStatus,
      error: null,
      createdAt: new Date(row.created_at as string),
      startedAt: row.started_at ? new Date(row.started_at as string) : null,
      endedAt: null,
    });
  }

  private columns(subject: TaskSubject) {
    return {
      type: subject.type,
      userId: subject.userId,
      databaseId: subject.databaseId ?? null,
      databaseName: subject.databaseName ?? null,
      teamId: subject.teamId ?? null,
      origin: subject.origin ?? currentOrigin() ?? null,
    };
  }

  private insert(subject: TaskSubject, status: string, startedAt: string, from: string): Statement {
    const c = this.columns(subject);
    return {
      sql: `INSERT INTO task (type, user_id, database_id, database_name, team_id, origin, owner, status, started_at)
            SELECT $1, $2::int, $3::int, $4::text, $5::int, $6::text, $7::int, ${status}, ${startedAt} ${from}
            RETURNING id, status, created_at, started_at`,
      params: [c.type, c.userId, c.databaseId, c.databaseName, c.teamId, c.origin, this.process.id],
    };
  }

  async started(task: TaskEntity): Promise<void> {
    await this.tasks.query(`UPDATE task SET status = 'running', started_at = now() WHERE id = $1`, [
      task.id,
    ]);
  }

  async succeeded(task: TaskEntity): Promise<void> {
    const { sql, params } = this.succeededStatement(task);
    await this.tasks.query(sql, params);
  }

  /** The success mark, as a statement (OperationRunner sends it with the lock's release). */
  succeededStatement(task: TaskEntity): Statement {
    return {
      sql: `UPDATE task SET status = 'success', ended_at = now() WHERE id = $1 RETURNING id`,
      params: [task.id],
    };
  }

  async failed(task: TaskEntity, error: unknown): Promise<void> {
    await this.tasks.query(
      `UPDATE task SET status = 'error', ended_at = now(), error = $2 WHERE id = $1`,
      [task.id, describe(error)],
    );
  }

  /**
   * The tasks left `waiting` or `running` by processes that have ended (see
   * ProcessIdentity); a task recorded without its owner counts once INTERRUPTED_AFTER_MS
   * old. The reconciler closes them with what really happened (`close`).
   */
  async interrupted(): Promise<InterruptedTask[]> {
    const rows = await this.tasks.query<Record<string, unknown>[]>(
      `SELECT id, type, status, database_id, database_name FROM task
        WHERE status IN ('waiting', 'running')
          AND (${this.process.ownerGoneSql('owner')} OR (owner IS NULL AND created_at < $1))
        ORDER BY id`,
      [new Date(Date.now() - INTERRUPTED_AFTER_MS)],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      type: row.type as TaskType,
      status: row.status as InterruptedTask['status'],
      databaseId: row.database_id === null ? null : Number(row.database_id),
      databaseName: row.database_name as string | null,
    }));
  }

  /** Ends an interrupted task (only if still open) with the outcome of its work. */
  async close(task: InterruptedTask, outcome: TaskOutcome): Promise<void> {
    await this.tasks.query(
      `UPDATE task SET status = $2, error = $3, ended_at = now()
        WHERE id = $1 AND status IN ('waiting', 'running')`,
      [task.id, outcome.status, outcome.status === 'error' ? outcome.error : null],
    );
  }

  async list(
    page: PageRequest,
    viewer: AuthenticatedUser,
    filter: TaskFilter,
  ): Promise<Page<TaskEntity>> {
    const query = this.visible(viewer).orderBy('task.id', 'DESC');
    if (filter.database !== undefined)
      query.andWhere('task.databaseId = :database', { database: filter.database });
    if (filter.status !== undefined)
      query.andWhere('task.status = :status', { status: filter.status });
    if (filter.type !== undefined) query.andWhere('task.type = :type', { type: filter.type });
    const { skip, take } = skipTake(page);
    const [items, count] = await query.skip(skip).take(take).getManyAndCount();
    return { items, count };
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<TaskEntity> {
    const task = await this.visible(viewer).andWhere('task.id = :id', { id }).getOne();
    if (!task) throw new NotFoundError('task', id);
    return task;
  }

  /** A regular user sees the tasks of their teams' databases. */
  private visible(viewer: AuthenticatedUser): SelectQueryBuilder<TaskEntity> {
    const query = this.tasks.createQueryBuilder('task');
    const teams = this.policy.teamScope(viewer);
    if (teams) query.andWhere('task.teamId IN (:...teams)', { teams: teams.length ? teams : [0] });
    return query;
  }
}
