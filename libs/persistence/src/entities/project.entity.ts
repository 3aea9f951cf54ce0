import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { TeamEntity } from './team.entity';

/**
 * A folder for databases, owned by one team: its members and dbas see it. A name is
 * unique within its team; a database may only be filed under a project of its own team
 * (the store enforces it: database (project_id, team_id) references project (id, team_id)).
 */
@Entity('project')
@Unique('project_team_id_name_key', ['teamId', 'name'])
export class ProjectEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column()
  name: string;

  @Column({ default: '' })
  description: string;

  @ManyToOne(() => TeamEntity, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'team_id' })
  team: TeamEntity;

  @Column({ name: 'team_id' })
  teamId: number;
}
