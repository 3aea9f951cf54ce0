import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** The stored answer to a POST sent with an Idempotency-Key, per user. */
@Entity('idempotency_key')
export class IdempotencyKeyEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'user_id' })
  userId: number;

  @Column()
  key: string;

  /** Keyed digest (SecretBox.digest) of method, path and body: the same key with another request is refused. */
  @Column()
  fingerprint: string;

  @Column({ type: 'varchar' })
  status: 'running' | 'done';

  /** The API process running the request (ProcessIdentity); null on claims older than that. */
  @Column({ type: 'int', nullable: true })
  owner: number | null;

  @Column({ name: 'response_status', type: 'int', nullable: true })
  responseStatus: number | null;

  /** The answer can hold a password: sealed with SecretBox like every secret. */
  @Column({ name: 'response_encrypted', type: 'text', nullable: true, select: false })
  responseEncrypted: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
