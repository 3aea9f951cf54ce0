import { TaskEntity, TaskStatus, TaskType } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';

/** A task as stored (the `task` table), as a plain object. */
export interface TaskRecord {
  id: number;
  type: TaskType;
  status: TaskStatus;
  userId: number | null;
  databaseId: number | null;
  databaseName: string | null;
  teamId: number | null;
  origin: string | null;
  owner: number | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
}

/** The columns a new task is written with. */
export interface NewTask {
  type: TaskType;
  userId: number | null;
  databaseId: number | null;
  databaseName: string | null;
  teamId: number | null;
  origin: string | null;
  owner: number;
}

/** A task left `waiting` or `running` by a process that has ended. */
export interface InterruptedTask {
  id: number;
  type: TaskType;
  status: 'waiting' | 'running';
  databaseId: number | null;
  databaseName: string | null;
}

export interface TaskFilter {
  database?: number;
  status?: TaskStatus;
  type?: TaskType;
}

/**
 * The `task` table, owned by the operations lib. The writes of an operation's frame are
 * plain statements, not the query builder, which would cost more CPU than the writes.
 */
@Injectable()
export class TaskRepository {
  constructor(@InjectRepository(TaskEntity) private readonly tasks: Repository<TaskEntity>) {}

  /** Writes a task `waiting` (not started). */
  async insertWaiting(task: NewTask): Promise<TaskRecord> {
    const [row] = await this.tasks.query<{ id: number; created_at: Date | string }[]>(
      `INSERT INTO task (type, user_id, database_id, database_name, team_id, origin, owner, status)
       VALUES ($1, $2::int, $3::int, $4::text, $5::int, $6::text, $7::int, 'waiting')
       RETURNING id, created_at`,
      [
        task.type,
        task.userId,
        task.databaseId,
        task.databaseName,
        task.teamId,
        task.origin,
        task.owner,
      ],
    );
    return {
      ...task,
      id: Number(row.id),
      status: 'waiting',
      error: null,
      createdAt: new Date(row.created_at),
      startedAt: null,
      endedAt: null,
    };
  }

  /**
   * The marks of an operation's frame move a task only from the status they expect
   * (`waiting` → `running` → `success`; `waiting` or `running` → `error`): a task that a
   * reconciler closed meanwhile is left as it is. Each says whether it moved the task.
   */
  async markRunning(id: number): Promise<boolean> {
    return this.changed(
      `UPDATE task SET status = 'running', started_at = now() WHERE id = $1 AND status = 'waiting'`,
      [id],
    );
  }

  async markSucceeded(id: number): Promise<boolean> {
    return this.changed(
      `UPDATE task SET status = 'success', ended_at = now() WHERE id = $1 AND status = 'running'`,
      [id],
    );
  }

  /** `error` is the text the task shows: never a secret. */
  async markFailed(id: number, error: string): Promise<boolean> {
    return this.changed(
      `UPDATE task SET status = 'error', ended_at = now(), error = $2
        WHERE id = $1 AND status IN ('waiting', 'running')`,
      [id, error],
    );
  }

  /** Runs an UPDATE; true if it changed a row (TypeORM answers an UPDATE with [rows, count]). */
  private async changed(sql: string, parameters: unknown[]): Promise<boolean> {
    const [, count] = await this.tasks.query<[unknown[], number]>(sql, parameters);
    return count > 0;
  }

  /** A create's task learns its database's id once the row is written. */
  async linkDatabase(id: number, databaseId: number): Promise<void> {
    await this.tasks.query('UPDATE task SET database_id = $2 WHERE id = $1', [id, databaseId]);
  }

  /**
   * The tasks still `waiting` or `running` whose owner is gone (`ownerGoneSql` on the
   * `owner` column), or that have no owner and were created before `ownerlessBefore`.
   */
  async openAndAbandoned(ownerGoneSql: string, ownerlessBefore: Date): Promise<InterruptedTask[]> {
    const rows = await this.tasks.query<Record<string, unknown>[]>(
      `SELECT id, type, status, database_id, database_name FROM task
        WHERE status IN ('waiting', 'running')
          AND (${ownerGoneSql} OR (owner IS NULL AND created_at < $1))
        ORDER BY id`,
      [ownerlessBefore],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      type: row.type as TaskType,
      status: row.status as InterruptedTask['status'],
      databaseId: row.database_id === null ? null : Number(row.database_id),
      databaseName: row.database_name as string | null,
    }));
  }

  /** Ends a task with `status` (and `error`), only if it is still open. */
  async closeIfOpen(id: number, status: 'success' | 'error', error: string | null): Promise<void> {
    await this.tasks.query(
      `UPDATE task SET status = $2, error = $3, ended_at = now()
        WHERE id = $1 AND status IN ('waiting', 'running')`,
      [id, status, error],
    );
  }

  /** One page, newest first; `teams`: only the tasks of those teams (null: all). */
  async page(
    teams: number[] | null,
    filter: TaskFilter,
    skip: number,
    take: number,
  ): Promise<{ items: TaskRecord[]; count: number }> {
    const query = this.tasks.createQueryBuilder('task').orderBy('task.id', 'DESC');
    if (teams) query.andWhere('task.teamId IN (:...teams)', { teams: teams.length ? teams : [0] });
    if (filter.database !== undefined)
      query.andWhere('task.databaseId = :database', { database: filter.database });
    if (filter.status !== undefined)
      query.andWhere('task.status = :status', { status: filter.status });
    if (filter.type !== undefined) query.andWhere('task.type = :type', { type: filter.type });
    const [items, count] = await query.skip(skip).take(take).getManyAndCount();
    return { items, count };
  }

  /** One task, if it is of one of `teams` (null: any). */
  async findOne(id: number, teams: number[] | null): Promise<TaskRecord | null> {
    const query = this.tasks.createQueryBuilder('task').where('task.id = :id', { id });
    if (teams) query.andWhere('task.teamId IN (:...teams)', { teams: teams.length ? teams : [0] });
    return query.getOne();
  }
}
