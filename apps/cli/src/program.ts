import { Command, CommanderError } from 'commander';
import { registerBackups } from './commands/backups';
import { registerCredentials } from './commands/credentials';
import { registerDatabases } from './commands/databases';
import { registerInfra } from './commands/infra';
import { registerLogin } from './commands/login';
import { registerTasks } from './commands/tasks';
import { registerUsers } from './commands/users';
import { CliError, EXIT } from './errors';
import { registerStoreCommands } from './store/register';

export { EXIT } from './errors';

const HELP_FOOTER = `
API commands (login, logout, databases, credentials, tasks, backup, backups, restore, clone,
create-user, infra) are HTTP
clients of a running API, on this machine or another: log in once with "dbaas login", or
set DBAAS_URL, DBAAS_USER and DBAAS_PASSWORD (they win over the saved login).
Store commands (migrate, reset-data, purge-quarantine, create-admin) open the metadata
store directly and read the API's environment (DATABASE_URL, DBAAS_DATA_DIR,
DBAAS_SECRET_KEY, ...): run them on the API's host.

Output: tables on stdout (--output json for scripts); progress and errors on stderr.

Exit codes:
  0  done
  1  failed: server error (5xx), API or engine unreachable, a failed task, an unreachable
     infra for "infra check", bad configuration for a store command
  2  bad usage: unknown command or option, missing argument
  3  not logged in, wrong user or password (401), not allowed (403), too many failed
     logins (429)
  4  not found (404)
  5  refused by the API: invalid input (400), conflict such as a name taken (409), other 4xx

Run "dbaas help <command>" for the options of one command.`;

export function buildProgram(): Command {
  const program = new Command('dbaas')
    .description('Command-line client for the dbaas API, plus the store-level operator commands.')
    .exitOverride()
    .showHelpAfterError('(run "dbaas help" for the list of commands)')
    .addHelpText('after', HELP_FOOTER);
  // Subcommands inherit exitOverride and the help hint from here.
  program.configureHelp({ sortSubcommands: false });

  registerLogin(program);
  registerDatabases(program);
  registerCredentials(program);
  registerTasks(program);
  registerBackups(program);
  registerUsers(program);
  registerInfra(program);
  registerStoreCommands(program);
  return program;
}

/** `help a b` is `a b --help`, so help reaches nested commands such as `infra check`. */
function normalizeHelp(argv: string[]): string[] {
  return argv[0] === 'help' && argv.length > 1 ? [...argv.slice(1), '--help'] : argv;
}

function messageOf(error: unknown): string {
  // By name: ConfigError lives in @dbaas/core, which only the store commands load.
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
    if (error instanceof CliError) {
      if (error.exitCode === EXIT.usage)
        process.stderr.write('(run "dbaas help" for the list of commands)\n');
      return error.exitCode;
    }
    return EXIT.failed;
  }
}
