import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A database whose measured size went over its plan's `size_limit_in_bytes` has its
 * credentials' writes blocked on the engine (SPEC §10); `over_size_limit` says so until
 * the size falls back under the limit.
 */
export class DatabaseOverSizeLimit1765180800000 implements MigrationInterface {
  name = 'DatabaseOverSizeLimit1765180800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE database ADD COLUMN over_size_limit boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE database DROP COLUMN over_size_limit`);
  }
}
