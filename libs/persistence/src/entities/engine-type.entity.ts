import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('engine_type')
export class EngineTypeEntity {
  @PrimaryGeneratedColumn()
  id: number;

  /** One of postgresql, mysql, mongodb, redis. */
  @Column({ unique: true })
  name: string;
}
