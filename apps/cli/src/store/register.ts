import { Command } from 'commander';

// Loaded on first use: Nest, TypeORM and the engine drivers take a second or two to load,
// which `--help`, usage errors and the API commands should not pay.
const store = () => import('./store-commands');

/**
 * The store-level commands: they open the metadata store directly (the API's environment:
 * DATABASE_URL, DBAAS_DATA_DIR, DBAAS_SECRET_KEY, ...) and run on the API's host.
 */
export function registerStoreCommands(program: Command): void {
  program
    .command('migrate')
    .description(
      'Store: apply pending metadata store migrations (the API also applies them at boot).',
    )
    .action(async () => (await store()).migrate());

  program
    .command('reset-data')
    .description(
      'Store: drop the databases the store knows of from their engines, empty the store and recreate the sample data (admin/123456, user/123456, the sample catalog).',
    )
    .addHelpText(
      'after',
      "\nThe sample infras point at DBAAS_SAMPLE_{POSTGRESQL,MYSQL,MONGODB,REDIS}_URL, or at each\nengine's local default port.",
    )
    .option(
      '--with-databases',
      'also create the sample databases on the sample infras that answer (my_first_database is then database 1)',
    )
    .action(async (options: { withDatabases?: boolean }) => (await store()).resetData(options));

  program
    .command('purge-quarantine')
    .description(
      'Store: remove for good the databases quarantined longer than QUARANTINE_RETENTION_DAYS (default 7).',
    )
    .addHelpText(
      'after',
      '\nShows "[n/total] name" progress on stderr. Exits 1 if any database could not be purged\n(it is retried on the next run). The API also purges hourly.',
    )
    .action(async () => (await store()).purgeQuarantine());

  program
    .command('create-admin')
    .description(
      'Store: create a dba user directly in the store, for the first login of an install without sample data (then use dbaas login and create-user).',
    )
    .argument('<username>', 'login name')
    .addHelpText(
      'after',
      '\nThe password is read from DBAAS_NEW_USER_PASSWORD, else from standard input.\n\nExample:\n  DBAAS_NEW_USER_PASSWORD="a long passphrase" dbaas create-admin ops',
    )
    .action(async (username: string) => (await store()).createAdmin(username));
}
