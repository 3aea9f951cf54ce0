import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const BROKER_OPERATIONS = ['provision', 'deprovision'] as const;
export type BrokerOperation = (typeof BROKER_OPERATIONS)[number];

/** The states of an Open Service Broker operation, spelled as the spec spells them. */
export const BROKER_STATES = ['in progress', 'succeeded', 'failed'] as const;
export type BrokerState = (typeof BROKER_STATES)[number];

/**
 * An Open Service Broker service instance: the platform's id for a dbaas database, with
 * what the platform sent (context, parameters) and the state of its last operation. The
 * row outlives the database (deprovisioned instances keep their history), so the database
 * is kept by id without a foreign key.
 */
@Entity('broker_instance')
export class BrokerInstanceEntity {
  @PrimaryColumn({ name: 'instance_id' })
  instanceId: string;

  @Column({ name: 'service_id' })
  serviceId: string;

  @Column({ name: 'plan_id' })
  planId: string;

  /** The dbaas plan and environment the catalog plan stood for when provisioned. */
  @Column({ name: 'dbaas_plan_id', type: 'int' })
  dbaasPlanId: number;

  @Column({ name: 'environment_id', type: 'int' })
  environmentId: number;

  /** The broker user who provisioned it, and the team the database belongs to. */
  @Column({ name: 'user_id', type: 'int' })
  userId: number;

  @Column({ name: 'team_id', type: 'int', nullable: true })
  teamId: number | null;

  @Column({ type: 'jsonb', default: {} })
  context: Record<string, unknown>;

  @Column({ name: 'organization_guid', type: 'varchar', nullable: true })
  organizationGuid: string | null;

  @Column({ name: 'space_guid', type: 'varchar', nullable: true })
  spaceGuid: string | null;

  @Column({ type: 'jsonb', default: {} })
  parameters: Record<string, unknown>;

  @Column({ name: 'database_id', type: 'int', nullable: true })
  databaseId: number | null;

  /** The name asked of dbaas: finds an orphaned database if the answer was lost. */
  @Column({ name: 'database_name' })
  databaseName: string;

  @Column({ type: 'varchar' })
  operation: BrokerOperation;

  /** The `operation` token given to the platform with a 202. */
  @Column({ name: 'operation_id' })
  operationId: string;

  @Column({ type: 'varchar' })
  state: BrokerState;

  /** What went wrong in the last operation; never holds a secret. */
  @Column({ type: 'varchar', nullable: true })
  error: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
