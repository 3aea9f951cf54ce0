import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Backups (SPEC §9): the `backup` table, and the plan's schedule (`backup_hour`, UTC; null =
 * no scheduled backups) and retention (`backup_retention_days`, 0 = keep none).
 * A backup keeps its database by id without a cascade: the row outlives the database
 * (its `database_id` becomes null), so a `final` backup can bring it back.
 */
export class Backups1765008000000 implements MigrationInterface {
  name = 'Backups1765008000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE plan
        ADD COLUMN backup_hour int CHECK (backup_hour BETWEEN 0 AND 23),
        ADD COLUMN backup_retention_days int NOT NULL DEFAULT 7 CHECK (backup_retention_days >= 0);
      CREATE TABLE backup (
        id serial PRIMARY KEY,
        database_id int REFERENCES database(id) ON DELETE SET NULL,
        database_name varchar NOT NULL,
        engine_type varchar NOT NULL,
        environment_id int NOT NULL REFERENCES environment(id) ON DELETE RESTRICT,
        plan_id int REFERENCES plan(id) ON DELETE SET NULL,
        team_id int NOT NULL REFERENCES team(id) ON DELETE RESTRICT,
        kind varchar NOT NULL CHECK (kind IN ('manual', 'scheduled', 'final')),
        status varchar NOT NULL CHECK (status IN ('running', 'ready', 'failed', 'deleting')),
        file_key varchar NOT NULL UNIQUE,
        size_in_bytes bigint CHECK (size_in_bytes >= 0),
        sha256 varchar,
        task_id int REFERENCES task(id) ON DELETE SET NULL,
        error varchar,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        scheduled_for date,
        expires_at timestamptz,
        CHECK ((kind = 'scheduled') = (scheduled_for IS NOT NULL)),
        CHECK (status <> 'ready' OR (size_in_bytes IS NOT NULL AND sha256 IS NOT NULL))
      );
      CREATE INDEX backup_database_idx ON backup (database_id);
      CREATE INDEX backup_team_idx ON backup (team_id);
      CREATE INDEX backup_expires_idx ON backup (expires_at) WHERE expires_at IS NOT NULL;
      CREATE UNIQUE INDEX backup_scheduled_once ON backup (database_id, scheduled_for)
        WHERE scheduled_for IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE backup;
      ALTER TABLE plan DROP COLUMN backup_retention_days, DROP COLUMN backup_hour;
    `);
  }
}
