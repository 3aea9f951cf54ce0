import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The states of a service binding; bindings are made synchronously. */
export const BROKER_BINDING_STATES = ['in progress', 'succeeded'] as const;
export type BrokerBindingState = (typeof BROKER_BINDING_STATES)[number];

/**
 * An Open Service Broker service binding: a dbaas credential on the instance's database.
 * The credential is kept by id without a foreign key: a dba may remove the database for
 * good, and the binding must still answer (as gone) to the platform.
 */
@Entity('broker_binding')
export class BrokerBindingEntity {
  @PrimaryColumn({ name: 'binding_id' })
  bindingId: string;

  @Column({ name: 'instance_id' })
  instanceId: string;

  @Column({ name: 'service_id' })
  serviceId: string;

  @Column({ name: 'plan_id' })
  planId: string;

  @Column({ name: 'credential_id', type: 'int', nullable: true })
  credentialId: number | null;

  @Column({ name: 'app_guid', type: 'varchar', nullable: true })
  appGuid: string | null;

  @Column({ name: 'bind_resource', type: 'jsonb', default: {} })
  bindResource: Record<string, unknown>;

  @Column({ type: 'jsonb', default: {} })
  context: Record<string, unknown>;

  @Column({ type: 'jsonb', default: {} })
  parameters: Record<string, unknown>;

  @Column({ type: 'varchar' })
  state: BrokerBindingState;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
