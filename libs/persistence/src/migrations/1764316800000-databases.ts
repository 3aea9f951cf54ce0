import { MigrationInterface, QueryRunner } from 'typeorm';

/** Databases and their credentials. */
export class Databases1764316800000 implements MigrationInterface {
  name = 'Databases1764316800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE database (
        id serial PRIMARY KEY,
        name varchar(64) NOT NULL,
        description varchar NOT NULL DEFAULT '',
        plan_id int NOT NULL REFERENCES plan(id) ON DELETE RESTRICT,
        environment_id int NOT NULL REFERENCES environment(id) ON DELETE RESTRICT,
        infra_id int NOT NULL REFERENCES infra(id) ON DELETE RESTRICT,
        project_id int REFERENCES project(id) ON DELETE RESTRICT,
        team_id int NOT NULL REFERENCES team(id) ON DELETE RESTRICT,
        status varchar NOT NULL CHECK (status IN ('creating', 'ready', 'quarantined')),
        quarantine_dt date,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (environment_id, name)
      );
      CREATE INDEX database_name ON database(name);
      CREATE INDEX database_plan_id ON database(plan_id);
      CREATE INDEX database_infra_id ON database(infra_id);
      CREATE INDEX database_project_id ON database(project_id);
      CREATE INDEX database_team_id ON database(team_id);
      CREATE INDEX database_quarantine_dt ON database(quarantine_dt);
      CREATE TABLE credential (
        id serial PRIMARY KEY,
        "user" varchar(64) NOT NULL,
        database_id int NOT NULL REFERENCES database(id) ON DELETE RESTRICT,
        infra_id int NOT NULL REFERENCES infra(id) ON DELETE RESTRICT,
        privileges varchar NOT NULL CHECK (privileges IN ('owner', 'read-write', 'read-only')),
        password_encrypted varchar NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (infra_id, "user")
      );
      CREATE INDEX credential_database_id ON credential(database_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE credential; DROP TABLE database;`);
  }
}
