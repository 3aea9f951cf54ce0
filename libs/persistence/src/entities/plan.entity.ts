import {
  Column,
  Entity,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { bigintNumber } from './bigint-number.transformer';
import { EngineEntity } from './engine.entity';
import { EnvironmentEntity } from './environment.entity';

@Entity('plan')
export class PlanEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ unique: true })
  name: string;

  @Column({ default: '' })
  description: string;

  @ManyToOne(() => EngineEntity, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'engine_id' })
  engine: EngineEntity;

  @Column({ name: 'engine_id' })
  engineId: number;

  /** Environments this plan is offered in. */
  @ManyToMany(() => EnvironmentEntity)
  @JoinTable({
    name: 'plan_environment',
    joinColumn: { name: 'plan_id' },
    inverseJoinColumn: { name: 'environment_id' },
  })
  environments: EnvironmentEntity[];

  /** 0 = unlimited. */
  @Column({ name: 'size_limit_in_bytes', type: 'bigint', default: 0, transformer: bigintNumber })
  sizeLimitInBytes: number;

  /** Connections each database may hold at once; 0 = none. */
  @Column({ name: 'max_connections', type: 'int', default: 0 })
  maxConnections: number;

  /** The UTC hour of the daily scheduled backup (0-23); null = no scheduled backups. */
  @Column({ name: 'backup_hour', type: 'int', nullable: true })
  backupHour: number | null;

  /** Days a scheduled or final backup is kept (0 = a final backup is not kept). */
  @Column({ name: 'backup_retention_days', type: 'int', default: 7 })
  backupRetentionDays: number;

  @Column({ name: 'is_active', default: true })
  isActive: boolean;

  @Column({ name: 'is_default', default: false })
  isDefault: boolean;
}
