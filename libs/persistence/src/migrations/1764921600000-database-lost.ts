import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A database can be `lost`: the reconciler found it missing on its engine (dropped by
 * hand, or a server rebuilt empty). It comes back to `ready` when found again.
 */
export class DatabaseLost1764921600000 implements MigrationInterface {
  name = 'DatabaseLost1764921600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE database DROP CONSTRAINT database_status_check;
      ALTER TABLE database ADD CONSTRAINT database_status_check
        CHECK (status IN ('creating', 'ready', 'quarantining', 'quarantined', 'restoring', 'deleting', 'lost'));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE database SET status = 'ready' WHERE status = 'lost';
      ALTER TABLE database DROP CONSTRAINT database_status_check;
      ALTER TABLE database ADD CONSTRAINT database_status_check
        CHECK (status IN ('creating', 'ready', 'quarantining', 'quarantined', 'restoring', 'deleting'));
    `);
  }
}
