import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { DatabaseEntity } from './database.entity';

export const CREDENTIAL_PRIVILEGES = ['owner', 'read-write', 'read-only'] as const;
export type CredentialPrivileges = (typeof CREDENTIAL_PRIVILEGES)[number];

/**
 * `creating`, `resetting` and `deleting` mark engine work in flight (see the reconciler).
 * A `resetting` credential already holds its new password: the engine catches up.
 */
export const CREDENTIAL_STATUSES = ['creating', 'ready', 'resetting', 'deleting'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

/** A user on the engine with access to exactly one database. */
@Entity('credential')
export class CredentialEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column()
  user: string;

  @ManyToOne(() => DatabaseEntity, (database) => database.credentials, {
    nullable: false,
    onDelete: 'RESTRICT',
  })
  @JoinColumn({ name: 'database_id' })
  database: DatabaseEntity;

  @Column({ name: 'database_id' })
  databaseId: number;

  /** Copied from the database: user names are unique per engine server. */
  @Column({ name: 'infra_id' })
  infraId: number;

  @Column({ type: 'varchar' })
  privileges: CredentialPrivileges;

  @Column({ type: 'varchar', default: 'ready' })
  status: CredentialStatus;

  /** AES-256-GCM sealed (SecretBox); never selected unless asked for. */
  @Column({ name: 'password_encrypted', select: false })
  passwordEncrypted: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
