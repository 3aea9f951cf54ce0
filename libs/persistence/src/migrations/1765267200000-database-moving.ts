import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A database can move to an infra of another plan (SPEC §10, plan change): status `moving`,
 * and the other end of the move, `move_infra_id` and `move_plan_id`. Until the switch they
 * name the target (the copy being made); at the switch the row's `infra_id`/`plan_id` and
 * these swap, so afterwards they name the source (left to drop). Either way, what the
 * reconciler does with an interrupted move is the same: drop the database and its users on
 * `move_infra_id` and give access back on `infra_id`. A moving database holds a slot on both
 * infras (placement counts `move_infra_id` too).
 */
export class DatabaseMoving1765267200000 implements MigrationInterface {
  name = 'DatabaseMoving1765267200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE database DROP CONSTRAINT database_status_check;
      ALTER TABLE database ADD CONSTRAINT database_status_check
        CHECK (status IN ('creating', 'ready', 'quarantining', 'quarantined', 'restoring', 'deleting', 'lost', 'restoring_backup', 'moving'));
      ALTER TABLE database
        ADD COLUMN move_infra_id int REFERENCES infra(id) ON DELETE RESTRICT,
        ADD COLUMN move_plan_id int REFERENCES plan(id) ON DELETE RESTRICT,
        ADD CONSTRAINT database_move_check
          CHECK ((status = 'moving') = (move_infra_id IS NOT NULL AND move_plan_id IS NOT NULL)
                 OR (status = 'deleting'));
      CREATE INDEX database_move_infra_id ON database(move_infra_id) WHERE move_infra_id IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX database_move_infra_id;
      ALTER TABLE database DROP CONSTRAINT database_move_check;
      ALTER TABLE database DROP COLUMN move_plan_id, DROP COLUMN move_infra_id;
      UPDATE database SET status = 'ready' WHERE status = 'moving';
      ALTER TABLE database DROP CONSTRAINT database_status_check;
      ALTER TABLE database ADD CONSTRAINT database_status_check
        CHECK (status IN ('creating', 'ready', 'quarantining', 'quarantined', 'restoring', 'deleting', 'lost', 'restoring_backup'));
    `);
  }
}
