import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const TASK_TYPES = [
  'create_database',
  'quarantine_database',
  'restore_database',
  'delete_database',
  'purge_database',
  'reconcile_database',
  'create_credential',
  'reset_password',
  'delete_credential',
  'repair_credential',
  'backup_database',
  'restore_backup',
  'delete_backup',
  'clone_database',
  'restrict_writes',
  'allow_writes',
  'change_plan',
  'move_database',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const TASK_STATUSES = ['waiting', 'running', 'success', 'error'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/**
 * One operation that touched an engine. The database is kept by id and name without a
 * foreign key: the history outlives the database.
 */
@Entity('task')
export class TaskEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar' })
  type: TaskType;

  @Column({ type: 'varchar' })
  status: TaskStatus;

  /** Null for the system's own work (purge, reconciler). */
  @Column({ name: 'user_id', type: 'int', nullable: true })
  userId: number | null;

  @Column({ name: 'database_id', type: 'int', nullable: true })
  databaseId: number | null;

  @Column({ name: 'database_name', type: 'varchar', nullable: true })
  databaseName: string | null;

  /** The database's team, for scoping: regular users see their teams' tasks. */
  @Column({ name: 'team_id', type: 'int', nullable: true })
  teamId: number | null;

  /** Who asked, beyond the user (e.g. a platform's originating identity). */
  @Column({ type: 'varchar', nullable: true })
  origin: string | null;

  /** The API process that runs it (ProcessIdentity); null on tasks older than that. */
  @Column({ type: 'int', nullable: true })
  owner: number | null;

  /** What went wrong; never holds a secret. */
  @Column({ type: 'varchar', nullable: true })
  error: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;
}
