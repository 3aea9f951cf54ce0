import { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's logger for the metadata store: it prints nothing (statement parameters can be
 * secrets) and counts the statements this process sends, for `/metrics`
 * (`dbaas_metadata_store_statements_total`) and the bench.
 */
export class StatementCounter implements TypeOrmLogger {
  private sent = 0;

  /** Statements sent since the process started. */
  get count(): number {
    return this.sent;
  }

  logQuery(): void {
    this.sent++;
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
