import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { CredentialEntity } from './credential.entity';
import { EnvironmentEntity } from './environment.entity';
import { InfraEntity } from './infra.entity';
import { PlanEntity } from './plan.entity';
import { ProjectEntity } from './project.entity';
import { TeamEntity } from './team.entity';

/**
 * Lifecycle: `creating` → `ready` ⇄ (`quarantining` → `quarantined` → `restoring`), and
 * `deleting` → (row deleted). The transient states mark work in flight: if the process
 * dies, the reconciler finds them and rolls back a create or finishes the others.
 * `ready` ⇄ `lost`: the drift repair found the database missing on its engine (or back).
 * `ready` → `restoring_backup` → `ready`: its data is replaced by a backup's, in place.
 */
export const DATABASE_STATUSES = [
  'creating',
  'ready',
  'quarantining',
  'quarantined',
  'restoring',
  'deleting',
  'lost',
  'restoring_backup',
] as const;
export type DatabaseStatus = (typeof DATABASE_STATUSES)[number];

@Entity('database')
export class DatabaseEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column()
  name: string;

  @Column({ default: '' })
  description: string;

  @ManyToOne(() => PlanEntity, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'plan_id' })
  plan: PlanEntity;

  @Column({ name: 'plan_id' })
  planId: number;

  @ManyToOne(() => EnvironmentEntity, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'environment_id' })
  environment: EnvironmentEntity;

  @Column({ name: 'environment_id' })
  environmentId: number;

  @ManyToOne(() => InfraEntity, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'infra_id' })
  infra: InfraEntity;

  @Column({ name: 'infra_id' })
  infraId: number;

  @ManyToOne(() => ProjectEntity, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'project_id' })
  project: ProjectEntity | null;

  @Column({ name: 'project_id', type: 'int', nullable: true })
  projectId: number | null;

  @ManyToOne(() => TeamEntity, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'team_id' })
  team: TeamEntity;

  @Column({ name: 'team_id' })
  teamId: number;

  @Column({ type: 'varchar' })
  status: DatabaseStatus;

  /** `YYYY-MM-DD` the database entered quarantine, or null. */
  @Column({ name: 'quarantine_dt', type: 'date', nullable: true })
  quarantineDt: string | null;

  /** While true, a DELETE is refused (409; OSB deprovision 422). */
  @Column({ name: 'is_protected', default: false })
  isProtected: boolean;

  /** At most 20, each `^[a-z0-9][a-z0-9_.:-]{0,62}$`. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tags: string[];

  /** Over its plan's size limit: writes blocked on the engine (SPEC §10). */
  @Column({ name: 'over_size_limit', default: false })
  overSizeLimit: boolean;

  @OneToMany(() => CredentialEntity, (credential) => credential.database)
  credentials: CredentialEntity[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
