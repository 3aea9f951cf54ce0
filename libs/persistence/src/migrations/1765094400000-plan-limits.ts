import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plans that mean something (SPEC §10): an infra serves one or more plans of its engine
 * (`infra_plan`, filled from the former `infra.plan_id`), a plan may cap the connections of
 * each database (`max_connections`, 0 = none), a team may cap its number of databases
 * (`database_limit`, 0 = none), and a database may be protected from deletion and carry
 * tags (at most 20, each checked by the API; the store checks the count).
 */
export class PlanLimits1765094400000 implements MigrationInterface {
  name = 'PlanLimits1765094400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE infra_plan (
        infra_id int NOT NULL REFERENCES infra(id) ON DELETE CASCADE,
        plan_id int NOT NULL REFERENCES plan(id) ON DELETE RESTRICT,
        PRIMARY KEY (infra_id, plan_id)
      );
      CREATE INDEX infra_plan_plan_id ON infra_plan(plan_id);
      INSERT INTO infra_plan (infra_id, plan_id) SELECT id, plan_id FROM infra;
      DROP INDEX infra_plan_environment;
      ALTER TABLE infra DROP COLUMN plan_id;
      CREATE INDEX infra_environment_engine ON infra(environment_id, engine_id);

      ALTER TABLE plan ADD COLUMN max_connections int NOT NULL DEFAULT 0
        CHECK (max_connections >= 0);
      ALTER TABLE team ADD COLUMN database_limit int NOT NULL DEFAULT 0
        CHECK (database_limit >= 0);
      ALTER TABLE database ADD COLUMN is_protected boolean NOT NULL DEFAULT false;
      ALTER TABLE database ADD COLUMN tags text[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(tags) <= 20);
      CREATE INDEX database_tags ON database USING gin (tags);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX database_tags;
      ALTER TABLE database DROP COLUMN tags;
      ALTER TABLE database DROP COLUMN is_protected;
      ALTER TABLE team DROP COLUMN database_limit;
      ALTER TABLE plan DROP COLUMN max_connections;
      DROP INDEX infra_environment_engine;
      ALTER TABLE infra ADD COLUMN plan_id int REFERENCES plan(id) ON DELETE RESTRICT;
      UPDATE infra SET plan_id = (SELECT min(plan_id) FROM infra_plan WHERE infra_id = infra.id);
      ALTER TABLE infra ALTER COLUMN plan_id SET NOT NULL;
      CREATE INDEX infra_plan_environment ON infra(plan_id, environment_id);
      DROP TABLE infra_plan;
    `);
  }
}
