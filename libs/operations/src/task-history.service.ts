import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import {
  ConflictError,
  DomainError,
  NotFoundError,
  Page,
  PageRequest,
  skipTake,
} from '@dbaas/core';
import { TaskType } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { currentOrigin } from './operation-origin';
import { ProcessIdentity } from './process-identity.service';
import { InterruptedTask, TaskFilter, TaskRecord, TaskRepository } from './task.repository';

export type { InterruptedTask, TaskFilter, TaskRecord } from './task.repository';

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

/** How an interrupted task ends: what really happened to its work. */
export type TaskOutcome = { status: 'success' } | { status: 'error'; error: string };

/** What a failed task says: a domain error's own message, never a driver's raw text. */
function describe(error: unknown): string {
  if (error instanceof DomainError) return error.message.slice(0, 500);
  if (error instanceof Error && error.name === 'EngineCommandError')
    return error.message.slice(0, 500);
  return 'Internal error; see the server log.';
}

/** The history of every operation that touched an engine (the `task` table, through TaskRepository). */
@Injectable()
export class TaskHistory {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly policy: AccessPolicy,
    private readonly process: ProcessIdentity,
  ) {}

  /** Records a new task, `waiting`, owned by this process. */
  open(subject: TaskSubject): Promise<TaskRecord> {
    return this.tasks.insertWaiting({
      type: subject.type,
      userId: subject.userId,
      databaseId: subject.databaseId ?? null,
      databaseName: subject.databaseName ?? null,
      teamId: subject.teamId ?? null,
      origin: subject.origin ?? currentOrigin() ?? null,
      owner: this.process.id,
    });
  }

  /**
   * Marks the task `running`. A task a reconciler closed while it waited (it took this
   * process for ended) is not reopened: a 409, and the work must not run.
   */
  async started(task: Pick<TaskRecord, 'id'>): Promise<void> {
    if (!(await this.tasks.markRunning(task.id))) {
      throw new ConflictError(
        `Task ${task.id} was closed before it started; the operation did not run.`,
      );
    }
  }

  /** Marks the task `success`; false if it was no longer `running` (a reconciler closed it). */
  succeeded(task: Pick<TaskRecord, 'id'>): Promise<boolean> {
    return this.tasks.markSucceeded(task.id);
  }

  /** Marks the task `error`; false if it had already ended. */
  failed(task: Pick<TaskRecord, 'id'>, error: unknown): Promise<boolean> {
    return this.tasks.markFailed(task.id, describe(error));
  }

  /** A create's task names its database once the row exists. */
  async linkDatabase(task: Pick<TaskRecord, 'id'>, databaseId: number): Promise<void> {
    await this.tasks.linkDatabase(task.id, databaseId);
  }

  /**
   * The tasks left `waiting` or `running` by processes that have ended (see
   * ProcessIdentity); a task recorded without its owner counts once INTERRUPTED_AFTER_MS
   * old. The reconciler closes them with what really happened (`close`).
   */
  interrupted(): Promise<InterruptedTask[]> {
    return this.tasks.openAndAbandoned(
      this.process.ownerGoneSql('owner'),
      new Date(Date.now() - INTERRUPTED_AFTER_MS),
    );
  }

  /** Ends an interrupted task (only if still open) with the outcome of its work. */
  async close(task: InterruptedTask, outcome: TaskOutcome): Promise<void> {
    await this.tasks.closeIfOpen(
      task.id,
      outcome.status,
      outcome.status === 'error' ? outcome.error : null,
    );
  }

  /** A regular user sees the tasks of their teams' databases. */
  async list(
    page: PageRequest,
    viewer: AuthenticatedUser,
    filter: TaskFilter,
  ): Promise<Page<TaskRecord>> {
    const { skip, take } = skipTake(page);
    return this.tasks.page(this.policy.teamScope(viewer), filter, skip, take);
  }

  async get(id: number, viewer: AuthenticatedUser): Promise<TaskRecord> {
    const task = await this.tasks.findOne(id, this.policy.teamScope(viewer));
    if (!task) throw new NotFoundError('task', id);
    return task;
  }
}
