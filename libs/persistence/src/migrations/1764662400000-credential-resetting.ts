import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A credential can be `resetting`: its new password is stored before the engine gets it,
 * so a reset cut short by a crash or an engine failure is finished by the reconciler.
 */
export class CredentialResetting1764662400000 implements MigrationInterface {
  name = 'CredentialResetting1764662400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE credential DROP CONSTRAINT credential_status_check;
      ALTER TABLE credential ADD CONSTRAINT credential_status_check
        CHECK (status IN ('creating', 'ready', 'resetting', 'deleting'));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE credential SET status = 'ready' WHERE status = 'resetting';
      ALTER TABLE credential DROP CONSTRAINT credential_status_check;
      ALTER TABLE credential ADD CONSTRAINT credential_status_check
        CHECK (status IN ('creating', 'ready', 'deleting'));
    `);
  }
}
