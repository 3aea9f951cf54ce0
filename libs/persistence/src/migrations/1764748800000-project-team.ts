import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Projects belong to a team. An existing project goes to the team of the databases filed
 * under it (the lowest-id one if they are of several teams), or, with no database, to the
 * lowest-id team. Databases of any other team are re-filed under a copy of the project
 * (same name and description) owned by their own team, so nobody loses a project and no
 * database stays filed under another team's project. With projects but no team at all, a
 * team `default` is made to own them. Names become unique per team, and the store refuses
 * a database filed under a project of another team.
 */
export class ProjectTeam1764748800000 implements MigrationInterface {
  name = 'ProjectTeam1764748800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE project ADD COLUMN team_id int REFERENCES team(id) ON DELETE RESTRICT;
      ALTER TABLE project DROP CONSTRAINT project_name_key;
      INSERT INTO team (name)
        SELECT 'default' WHERE EXISTS (SELECT 1 FROM project) AND NOT EXISTS (SELECT 1 FROM team);
      UPDATE project p SET team_id = COALESCE(
        (SELECT min(d.team_id) FROM database d WHERE d.project_id = p.id),
        (SELECT min(t.id) FROM team t));
      INSERT INTO project (name, description, team_id)
        SELECT DISTINCT p.name, p.description, d.team_id
          FROM database d JOIN project p ON p.id = d.project_id
         WHERE d.team_id <> p.team_id;
      UPDATE database d SET project_id = copy.id
        FROM project p, project copy
       WHERE d.project_id = p.id AND d.team_id <> p.team_id
         AND copy.name = p.name AND copy.team_id = d.team_id;
      ALTER TABLE project ALTER COLUMN team_id SET NOT NULL;
      ALTER TABLE project ADD CONSTRAINT project_team_id_name_key UNIQUE (team_id, name);
      ALTER TABLE project ADD CONSTRAINT project_id_team_id_key UNIQUE (id, team_id);
      ALTER TABLE database ADD CONSTRAINT database_project_team_fkey
        FOREIGN KEY (project_id, team_id) REFERENCES project (id, team_id) ON DELETE RESTRICT;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // Names were unique per team only: a repeated name gets its id appended.
    await q.query(`
      ALTER TABLE database DROP CONSTRAINT database_project_team_fkey;
      ALTER TABLE project DROP CONSTRAINT project_id_team_id_key;
      ALTER TABLE project DROP CONSTRAINT project_team_id_name_key;
      UPDATE project p SET name = p.name || '-' || p.id
       WHERE EXISTS (SELECT 1 FROM project o WHERE o.name = p.name AND o.id < p.id);
      ALTER TABLE project ADD CONSTRAINT project_name_key UNIQUE (name);
      ALTER TABLE project DROP COLUMN team_id;
    `);
  }
}
