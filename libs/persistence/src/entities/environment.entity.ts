import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('environment')
export class EnvironmentEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ unique: true })
  name: string;
}
