import { assertTransition, ConflictError } from '@dbaas/core';
import { BackupEntity, BackupKind, BackupStatus } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThanOrEqual, Repository } from 'typeorm';
import { BACKUP_TRANSITIONS } from './backup-states';

/** A backup as stored (the entity's fields as a plain object). */
export type BackupRecord = Omit<BackupEntity, never>;

/** A new backup row: `running`, no file yet. */
export type NewBackup = Pick<
  BackupRecord,
  | 'databaseId'
  | 'databaseName'
  | 'engineType'
  | 'environmentId'
  | 'planId'
  | 'teamId'
  | 'kind'
  | 'fileKey'
> & { scheduledFor?: string | null };

export interface BackupFilter {
  database?: number;
  status?: BackupStatus;
  kind?: BackupKind;
}

/** A backup being written or deleted, with the state of the task that does it. */
export interface UnfinishedBackup extends BackupRecord {
  /** The task's status; null when there is no task (or it is gone). */
  taskStatus: string | null;
}

/** What a finished backup records. */
export interface FinishedBackup {
  sizeInBytes?: number;
  sha256?: string;
  error?: string | null;
  expiresAt?: Date | null;
}

function toRecord(entity: BackupEntity): BackupRecord {
  return { ...entity };
}

/**
 * The `backup` table, owned by the backups lib. Every status change goes through
 * `transition`, which refuses a move BACKUP_TRANSITIONS does not allow.
 */
@Injectable()
export class BackupRepository {
  constructor(@InjectRepository(BackupEntity) private readonly backups: Repository<BackupEntity>) {}

  async find(id: number): Promise<BackupRecord | null> {
    const entity = await this.backups.findOneBy({ id });
    return entity && toRecord(entity);
  }

  /**
   * One page, newest first, of the backups of `teams` (null: every team) matching `filter`.
   */
  async page(
    teams: number[] | null,
    filter: BackupFilter,
    skip: number,
    take: number,
  ): Promise<{ items: BackupRecord[]; count: number }> {
    const where = {
      ...(teams ? { teamId: In(teams.length ? teams : [0]) } : {}),
      ...(filter.database !== undefined ? { databaseId: filter.database } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.kind ? { kind: filter.kind } : {}),
    };
    const [items, count] = await this.backups.findAndCount({
      where,
      order: { id: 'DESC' },
      skip,
      take,
    });
    return { items: items.map(toRecord), count };
  }

  /**
   * Writes a new `running` backup. A second `scheduled` backup of one database for one day
   * is refused by the store (another process took it): null then.
   */
  async insertRunning(backup: NewBackup): Promise<BackupRecord | null> {
    const rows = await this.backups.query<{ id: number }[]>(
      `INSERT INTO backup (database_id, database_name, engine_type, environment_id, plan_id,
                           team_id, kind, status, file_key, scheduled_for)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $9)
       ON CONFLICT (database_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        backup.databaseId,
        backup.databaseName,
        backup.engineType,
        backup.environmentId,
        backup.planId,
        backup.teamId,
        backup.kind,
        backup.fileKey,
        backup.scheduledFor ?? null,
      ],
    );
    return rows.length ? this.find(rows[0].id) : null;
  }

  async setTask(id: number, taskId: number): Promise<void> {
    await this.backups.update(id, { taskId });
  }

  /**
   * Moves a backup from `from` to `to`, recording what a finished one records. An illegal
   * move, or one from a state the row is no longer in, is a 409.
   */
  async transition(
    id: number,
    from: BackupStatus,
    to: BackupStatus,
    finished: FinishedBackup = {},
  ): Promise<void> {
    assertTransition(BACKUP_TRANSITIONS, `backup ${id}`, from, to);
    const values: Partial<BackupEntity> = { status: to };
    if (to === 'ready' || to === 'failed') values.finishedAt = new Date();
    if (finished.sizeInBytes !== undefined) values.sizeInBytes = finished.sizeInBytes;
    if (finished.sha256 !== undefined) values.sha256 = finished.sha256;
    if (finished.error !== undefined) values.error = finished.error;
    if (finished.expiresAt !== undefined) values.expiresAt = finished.expiresAt;
    const result = await this.backups.update({ id, status: from }, values);
    if (!result.affected) throw new ConflictError(`backup ${id} is no longer ${from}.`);
  }

  /** The row goes (its file went first). */
  async delete(id: number): Promise<void> {
    await this.backups.delete({ id, status: 'deleting' });
  }

  /** Backups past their `expires_at` that are not being written or deleted. */
  async expired(now: Date): Promise<BackupRecord[]> {
    const rows = await this.backups.find({
      where: { expiresAt: LessThanOrEqual(now), status: In(['ready', 'failed']) },
      order: { id: 'ASC' },
    });
    return rows.map(toRecord);
  }

  /** `failed` backups that finished before `cutoff` (they have no file): the expiry removes them. */
  async failedBefore(cutoff: Date): Promise<BackupRecord[]> {
    const rows = await this.backups.find({
      where: { status: 'failed', finishedAt: LessThanOrEqual(cutoff) },
      order: { id: 'ASC' },
    });
    return rows.map(toRecord);
  }

  /** Backups `running` or `deleting`, with their task's status: recovery's candidates. */
  async unfinished(): Promise<UnfinishedBackup[]> {
    const rows = await this.backups
      .createQueryBuilder('backup')
      .leftJoin('task', 'task', 'task.id = backup.task_id')
      .addSelect('task.status', 'task_status')
      .where(`backup.status IN ('running', 'deleting')`)
      .orderBy('backup.id', 'ASC')
      .getRawAndEntities<{ task_status: string | null }>();
    return rows.entities.map((entity, i) => ({
      ...toRecord(entity),
      taskStatus: rows.raw[i].task_status,
    }));
  }

  /** The bytes written so far by a running backup (progress); nothing once it finished. */
  async setProgress(id: number, sizeInBytes: number): Promise<void> {
    await this.backups.update({ id, status: 'running' }, { sizeInBytes });
  }

  /**
   * `ready`/`failed` → `deleting`, unless the backup is being restored (a DELETE waits for
   * no restore: it is refused). False when the row is not in such a state any more.
   */
  async markDeleting(id: number): Promise<boolean> {
    const result = await this.backups
      .createQueryBuilder()
      .update()
      .set({ status: 'deleting' })
      .where(`id = :id AND status IN ('ready', 'failed') AND restoring_database_id IS NULL`, {
        id,
      })
      .execute();
    return Boolean(result.affected);
  }

  /**
   * Records that a `ready` backup is being restored into a database (its file must stay);
   * false when it is not `ready` any more (being deleted) or already being restored.
   */
  async markRestoring(id: number, databaseId: number): Promise<boolean> {
    const result = await this.backups
      .createQueryBuilder()
      .update()
      .set({ restoringDatabaseId: databaseId })
      .where(`id = :id AND status = 'ready' AND restoring_database_id IS NULL`, { id })
      .execute()
      .catch((error: Error & { code?: string }) => {
        // Another backup is being restored into that database already (unique index).
        if (error.code === '23505') return { affected: 0 };
        throw error;
      });
    return Boolean(result.affected);
  }

  /** The restore into `databaseId` is over (done, or it changed nothing). */
  async unmarkRestoring(databaseId: number): Promise<void> {
    await this.backups.update({ restoringDatabaseId: databaseId }, { restoringDatabaseId: null });
  }

  /** The backup being restored into a database (see markRestoring), if any. */
  async restoringInto(databaseId: number): Promise<BackupRecord | null> {
    const entity = await this.backups.findOneBy({ restoringDatabaseId: databaseId });
    return entity && toRecord(entity);
  }

  /**
   * The retention of a plan (`plan.backup_retention_days`, the catalog's column), read here
   * so that a backup's expiry is set in the statement's lib; null when the plan is gone.
   */
  async planRetentionDays(planId: number): Promise<number | null> {
    const rows = await this.backups.query<{ days: number }[]>(
      'SELECT backup_retention_days AS days FROM plan WHERE id = $1',
      [planId],
    );
    return rows.length ? rows[0].days : null;
  }

  /** Every `running` backup: the reconciler fails those whose task was abandoned. */
  async running(): Promise<BackupRecord[]> {
    const rows = await this.backups.find({ where: { status: 'running' }, order: { id: 'ASC' } });
    return rows.map(toRecord);
  }
}
