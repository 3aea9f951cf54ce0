import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { UsageError } from './errors';

// Loaded on first use: Nest, TypeORM and the engine drivers take a second or two to load,
// which `--help` and usage errors should not pay.
const operations = () => import('./operations');

/** Mirrors the store's roles; kept here so that help does not load the persistence layer. */
const ROLES = ['dba', 'regular', 'broker'] as const;

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const ENVIRONMENT_HELP = `
Configuration comes from the environment (DATABASE_URL, DBAAS_DATA_DIR, DBAAS_SECRET_KEY,
...), exactly as for the API. Progress goes to stderr, results to stdout.

Exit codes: 0 done, 1 failed (including an unreachable infra for "infra check"),
2 bad usage.

Run "dbaas help <command>" for the options of one command.`;

function teamId(value: string, previous: number[] = []): number[] {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('a team id is a positive integer');
  return [...previous, Number(value)];
}

export function buildProgram(): Command {
  const program = new Command('dbaas')
    .description('Operator commands for the dbaas control plane.')
    .exitOverride()
    .showHelpAfterError('(run "dbaas help" for the list of commands)')
    .addHelpText('after', ENVIRONMENT_HELP);

  program
    .command('migrate')
    .description('Apply pending metadata store migrations (the API also applies them at boot).')
    .action(async () => (await operations()).migrate());

  program
    .command('reset-data')
    .description(
      'Drop the databases the store knows of from their engines, empty the store and recreate the sample data (admin/123456, user/123456, the sample catalog).',
    )
    .addHelpText(
      'after',
      "\nThe sample infras point at DBAAS_SAMPLE_{POSTGRESQL,MYSQL,MONGODB,REDIS}_URL, or at each\nengine's local default port.",
    )
    .option(
      '--with-databases',
      'also create the sample databases on the sample infras that answer (my_first_database is then database 1)',
    )
    .action(async (options: { withDatabases?: boolean }) =>
      (await operations()).resetData(options),
    );

  program
    .command('purge-quarantine')
    .description(
      'Remove for good the databases quarantined longer than QUARANTINE_RETENTION_DAYS (default 7).',
    )
    .addHelpText(
      'after',
      '\nShows "[n/total] name" progress on stderr. Exits 1 if any database could not be purged\n(it is retried on the next run).',
    )
    .action(async () => (await operations()).purgeQuarantine());

  program
    .command('create-user')
    .description('Create an API user.')
    .argument('<username>', 'login name')
    .addOption(
      new Option('--role <role>', 'dba (everything) or regular (its teams)')
        .choices([...ROLES])
        .makeOptionMandatory(),
    )
    .option('--team <id>', 'team id to join; repeat for several teams', teamId, [])
    .addHelpText(
      'after',
      '\nThe password is read from DBAAS_NEW_USER_PASSWORD, else from standard input.\n\nExample:\n  echo "s3cret-pw" | dbaas create-user alice --role regular --team 2',
    )
    .action(async (username: string, options: { role: (typeof ROLES)[number]; team: number[] }) =>
      (await operations()).createUser(username, options.role, options.team),
    );

  const infra = program
    .command('infra')
    .description('Engine servers (infras).')
    .addHelpText('after', '\nRun "dbaas help infra check" for details.');
  infra
    .command('check')
    .description(
      'Ping every infra with its admin login and print id, name, engine, addresses, reachable and version or error, then its security warnings.',
    )
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      '\nWarnings name what leaves the tenants unprotected: PostgreSQL trust authentication, a MySQL\nadmin without a password, the Redis default user without a password, Redis ACL changes\nnot persisted, MongoDB without access control. They do not change the exit code.\n\nExits 1 if any infra is unreachable, so it can gate a deploy.',
    )
    .action(async (options: { json?: boolean }) => (await operations()).infraCheck(options));

  const databases = program.command('databases').description('Databases in the metadata store.');
  databases
    .command('list')
    .description(
      'List every database (quarantined included): id, name, engine, environment, team, status, quarantine_dt.',
    )
    .option('--quarantined', 'only the quarantined ones')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean; quarantined?: boolean }) =>
      (await operations()).databasesList(options),
    );

  return program;
}

/** `help a b` is `a b --help`, so help reaches nested commands such as `infra check`. */
function normalizeHelp(argv: string[]): string[] {
  return argv[0] === 'help' && argv.length > 1 ? [...argv.slice(1), '--help'] : argv;
}

function messageOf(error: unknown): string {
  // By name: ConfigError lives in @dbaas/core, which help and usage errors never load.
  if (error instanceof Error && error.name === 'ConfigError')
    return `invalid configuration: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Runs one command line and returns the exit code; never throws. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(normalizeHelp(argv), { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the help or the usage error; help asked for exits 0, help
      // shown because a command was missing exits 1 in commander, a usage error here.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`dbaas: ${messageOf(error)}\n`);
    if (error instanceof UsageError) {
      process.stderr.write('(run "dbaas help" for the list of commands)\n');
      return EXIT.usage;
    }
    return EXIT.failed;
  }
}
