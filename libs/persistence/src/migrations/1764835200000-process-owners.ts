import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tasks and Idempotency-Key claims record the API process that owns them (ProcessIdentity):
 * once that process is gone, its unfinished ones are known to be abandoned at once.
 */
export class ProcessOwners1764835200000 implements MigrationInterface {
  name = 'ProcessOwners1764835200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE task ADD COLUMN owner int;
      ALTER TABLE idempotency_key ADD COLUMN owner int;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE idempotency_key DROP COLUMN owner;
      ALTER TABLE task DROP COLUMN owner;
    `);
  }
}
