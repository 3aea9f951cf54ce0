import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Restore of a backup in place (SPEC §9): a database can be `restoring_backup` while its
 * data is replaced by a backup's, and the backup being restored names the database in
 * `restoring_database_id`, so that the reconciler finds the file to finish an interrupted
 * restore from (and a DELETE of that backup waits for it).
 */
export class DatabaseRestoringBackup1765051200000 implements MigrationInterface {
  name = 'DatabaseRestoringBackup1765051200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE database DROP CONSTRAINT database_status_check;
      ALTER TABLE database ADD CONSTRAINT database_status_check
        CHECK (status IN ('creating', 'ready', 'quarantining', 'quarantined', 'restoring', 'deleting', 'lost', 'restoring_backup'));
      ALTER TABLE backup
        ADD COLUMN restoring_database_id int REFERENCES database(id) ON DELETE SET NULL;
      CREATE UNIQUE INDEX backup_restoring_once ON backup (restoring_database_id)
        WHERE restoring_database_id IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE backup DROP COLUMN restoring_database_id;
      UPDATE database SET status = 'ready' WHERE status = 'restoring_backup';
      ALTER TABLE database DROP CONSTRAINT database_status_check;
      ALTER TABLE database ADD CONSTRAINT database_status_check
        CHECK (status IN ('creating', 'ready', 'quarantining', 'quarantined', 'restoring', 'deleting', 'lost'));
    `);
  }
}
