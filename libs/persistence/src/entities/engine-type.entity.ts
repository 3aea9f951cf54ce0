import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('engine_type')
export class EngineTypeEntity {
  @PrimaryGeneratedColumn()
  id: number;

  /** The type of a registered engine provider (ENGINE_TYPES in @dbaas/engines). */
  @Column({ unique: true })
  name: string;
}
