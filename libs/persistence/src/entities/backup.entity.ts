import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintNumber } from './bigint-number.transformer';

export const BACKUP_KINDS = ['manual', 'scheduled', 'final'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

/**
 * `running` while the dump is taken, then `ready` (the file is stored) or `failed` (no
 * file). `deleting` marks a file being removed: the row goes once the file is gone.
 */
export const BACKUP_STATUSES = ['running', 'ready', 'failed', 'deleting'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];

/**
 * One backup file of one database. The database is kept by id (set to null when the
 * database row goes) and by name, engine, environment and team: a `final` backup outlives
 * its database, and `from_backup` brings it back.
 */
@Entity('backup')
export class BackupEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'database_id', type: 'int', nullable: true })
  databaseId: number | null;

  @Column({ name: 'database_name', type: 'varchar' })
  databaseName: string;

  /** The engine type name (`postgresql`, `mysql`, `redis`, `mongodb`). */
  @Column({ name: 'engine_type', type: 'varchar' })
  engineType: string;

  @Column({ name: 'environment_id', type: 'int' })
  environmentId: number;

  /** The database's plan when the backup was taken (a `from_backup` default). */
  @Column({ name: 'plan_id', type: 'int', nullable: true })
  planId: number | null;

  /** The database's team: regular users see their teams' backups. */
  @Column({ name: 'team_id', type: 'int' })
  teamId: number;

  @Column({ type: 'varchar' })
  kind: BackupKind;

  @Column({ type: 'varchar' })
  status: BackupStatus;

  /** Where the file is in the backup storage (storage-key.ts). */
  @Column({ name: 'file_key', type: 'varchar' })
  fileKey: string;

  /** Bytes stored (sealed); null until `ready`. */
  @Column({
    name: 'size_in_bytes',
    type: 'bigint',
    nullable: true,
    transformer: bigintNumber,
  })
  sizeInBytes: number | null;

  /** SHA-256 (hex) of the stored bytes; null until `ready`. */
  @Column({ type: 'varchar', nullable: true })
  sha256: string | null;

  /** The task that takes it (`backup_database`). */
  @Column({ name: 'task_id', type: 'int', nullable: true })
  taskId: number | null;

  /** Why it failed; never holds a secret. */
  @Column({ type: 'varchar', nullable: true })
  error: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  /**
   * `scheduled` backups only: the UTC day it is the daily backup of. Unique per database,
   * so several API processes take it once.
   */
  @Column({ name: 'scheduled_for', type: 'date', nullable: true })
  scheduledFor: string | null;

  /**
   * The database this backup is being restored into (in place), while that database is
   * `restoring_backup`: the reconciler finishes an interrupted restore from this file, and
   * a DELETE of the backup is refused meanwhile.
   */
  @Column({ name: 'restoring_database_id', type: 'int', nullable: true })
  restoringDatabaseId: number | null;

  /** When the expiry job removes it; null = kept until deleted. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;
}
