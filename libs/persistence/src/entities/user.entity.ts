import { Column, CreateDateColumn, Entity, ManyToMany, PrimaryGeneratedColumn } from 'typeorm';
import { TeamEntity } from './team.entity';

/** `broker`: a platform (Open Service Broker API, /v2); it works inside its teams like `regular`. */
export const ROLES = ['dba', 'regular', 'broker'] as const;
export type Role = (typeof ROLES)[number];

@Entity('user')
export class UserEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ unique: true })
  username: string;

  @Column({ type: 'varchar' })
  role: Role;

  /** scrypt hash; never selected unless asked for. */
  @Column({ name: 'password_hash', select: false })
  passwordHash: string;

  @ManyToMany(() => TeamEntity, (team) => team.users)
  teams: TeamEntity[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
