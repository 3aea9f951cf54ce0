import { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, teams and the catalog: engine types, engines, environments, plans, infras, projects. */
export class Catalog1764230400000 implements MigrationInterface {
  name = 'Catalog1764230400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "user" (
        id serial PRIMARY KEY,
        username varchar NOT NULL UNIQUE,
        role varchar NOT NULL CHECK (role IN ('dba', 'regular')),
        password_hash varchar NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE team (
        id serial PRIMARY KEY,
        name varchar NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE team_user (
        team_id int NOT NULL REFERENCES team(id) ON DELETE CASCADE,
        user_id int NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
        PRIMARY KEY (team_id, user_id)
      );
      CREATE INDEX team_user_user_id ON team_user(user_id);
      CREATE TABLE engine_type (
        id serial PRIMARY KEY,
        name varchar NOT NULL UNIQUE
      );
      CREATE TABLE engine (
        id serial PRIMARY KEY,
        engine_type_id int NOT NULL REFERENCES engine_type(id) ON DELETE RESTRICT,
        version varchar NOT NULL,
        UNIQUE (engine_type_id, version)
      );
      CREATE TABLE environment (
        id serial PRIMARY KEY,
        name varchar NOT NULL UNIQUE
      );
      CREATE TABLE plan (
        id serial PRIMARY KEY,
        name varchar NOT NULL UNIQUE,
        description varchar NOT NULL DEFAULT '',
        engine_id int NOT NULL REFERENCES engine(id) ON DELETE RESTRICT,
        size_limit_in_bytes bigint NOT NULL DEFAULT 0 CHECK (size_limit_in_bytes >= 0),
        is_active boolean NOT NULL DEFAULT true,
        is_default boolean NOT NULL DEFAULT false
      );
      CREATE INDEX plan_engine_id ON plan(engine_id);
      CREATE TABLE plan_environment (
        plan_id int NOT NULL REFERENCES plan(id) ON DELETE CASCADE,
        environment_id int NOT NULL REFERENCES environment(id) ON DELETE RESTRICT,
        PRIMARY KEY (plan_id, environment_id)
      );
      CREATE INDEX plan_environment_environment_id ON plan_environment(environment_id);
      CREATE TABLE infra (
        id serial PRIMARY KEY,
        name varchar NOT NULL UNIQUE,
        engine_id int NOT NULL REFERENCES engine(id) ON DELETE RESTRICT,
        plan_id int NOT NULL REFERENCES plan(id) ON DELETE RESTRICT,
        environment_id int NOT NULL REFERENCES environment(id) ON DELETE RESTRICT,
        addresses jsonb NOT NULL,
        admin_user varchar NOT NULL,
        admin_password_encrypted varchar NOT NULL,
        capacity int NOT NULL CHECK (capacity >= 0),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX infra_plan_environment ON infra(plan_id, environment_id);
      CREATE INDEX infra_engine_id ON infra(engine_id);
      CREATE INDEX infra_environment_id ON infra(environment_id);
      CREATE TABLE project (
        id serial PRIMARY KEY,
        name varchar NOT NULL UNIQUE,
        description varchar NOT NULL DEFAULT ''
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE project; DROP TABLE infra; DROP TABLE plan_environment; DROP TABLE plan;
      DROP TABLE environment; DROP TABLE engine; DROP TABLE engine_type;
      DROP TABLE team_user; DROP TABLE team; DROP TABLE "user";
    `);
  }
}
