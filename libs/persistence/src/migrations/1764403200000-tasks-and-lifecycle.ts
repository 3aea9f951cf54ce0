import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Crash safety and history: lifecycle states a reconciler can resume or roll back,
 * the task history of every engine operation, and stored Idempotency-Key answers.
 */
export class TasksAndLifecycle1764403200000 implements MigrationInterface {
  name = 'TasksAndLifecycle1764403200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE database DROP CONSTRAINT database_status_check;
      ALTER TABLE database ADD CONSTRAINT database_status_check
        CHECK (status IN ('creating', 'ready', 'quarantining', 'quarantined', 'restoring', 'deleting'));
      ALTER TABLE database ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
      CREATE INDEX database_status ON database(status) WHERE status <> 'ready';
      ALTER TABLE credential ADD COLUMN status varchar NOT NULL DEFAULT 'ready'
        CHECK (status IN ('creating', 'ready', 'deleting'));
      CREATE INDEX credential_status ON credential(status) WHERE status <> 'ready';

      CREATE TABLE task (
        id serial PRIMARY KEY,
        type varchar NOT NULL,
        status varchar NOT NULL CHECK (status IN ('waiting', 'running', 'success', 'error')),
        user_id int REFERENCES "user"(id) ON DELETE SET NULL,
        database_id int,
        database_name varchar,
        team_id int,
        origin varchar,
        error varchar,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        ended_at timestamptz
      );
      CREATE INDEX task_database_id ON task(database_id);
      CREATE INDEX task_team_id ON task(team_id);
      CREATE INDEX task_status ON task(status);
      CREATE INDEX task_type ON task(type);

      CREATE TABLE idempotency_key (
        id serial PRIMARY KEY,
        user_id int NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
        key varchar(255) NOT NULL,
        fingerprint varchar(64) NOT NULL,
        status varchar NOT NULL CHECK (status IN ('running', 'done')),
        response_status int,
        response_encrypted text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, key)
      );
      CREATE INDEX idempotency_key_created_at ON idempotency_key(created_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE idempotency_key; DROP TABLE task;
      ALTER TABLE credential DROP COLUMN status;
      ALTER TABLE database DROP COLUMN updated_at;
      ALTER TABLE database DROP CONSTRAINT database_status_check;
      ALTER TABLE database ADD CONSTRAINT database_status_check CHECK (status IN ('creating', 'ready', 'quarantined'));
    `);
  }
}
