import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { EngineEntity } from './engine.entity';
import { EnvironmentEntity } from './environment.entity';
import { PlanEntity } from './plan.entity';

/** An engine server or cluster that hosts databases. */
@Entity('infra')
export class InfraEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ unique: true })
  name: string;

  @ManyToOne(() => EngineEntity, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'engine_id' })
  engine: EngineEntity;

  @Column({ name: 'engine_id' })
  engineId: number;

  /** The plans it serves (`infra_plan`), all of its engine. */
  @ManyToMany(() => PlanEntity)
  @JoinTable({
    name: 'infra_plan',
    joinColumn: { name: 'infra_id' },
    inverseJoinColumn: { name: 'plan_id' },
  })
  plans: PlanEntity[];

  @ManyToOne(() => EnvironmentEntity, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'environment_id' })
  environment: EnvironmentEntity;

  @Column({ name: 'environment_id' })
  environmentId: number;

  /** `host:port` strings. */
  @Column({ type: 'jsonb' })
  addresses: string[];

  @Column({ name: 'admin_user' })
  adminUser: string;

  /** AES-256-GCM sealed (SecretBox); never selected unless asked for. */
  @Column({ name: 'admin_password_encrypted', select: false })
  adminPasswordEncrypted: string;

  /** How many databases it may hold. */
  @Column({ type: 'int' })
  capacity: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
