import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { EngineTypeEntity } from './engine-type.entity';

@Entity('engine')
export class EngineEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @ManyToOne(() => EngineTypeEntity, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'engine_type_id' })
  engineType: EngineTypeEntity;

  @Column({ name: 'engine_type_id' })
  engineTypeId: number;

  @Column()
  version: string;
}
