import { Command } from 'commander';
import { ApiClient } from '../api/client';
import { configPath, normalizeUrl, removeLogin, saveLogin } from '../api/config';
import { ask, readStdin } from '../api/prompt';
import { UsageError } from '../errors';

interface LoginOptions {
  url?: string;
  user?: string;
  passwordStdin?: boolean;
}

async function valueOf(given: string | undefined, envName: string, question: string) {
  const value = given ?? process.env[envName];
  if (value) return value;
  if (!process.stdin.isTTY)
    throw new UsageError(`give ${question.toLowerCase()} (option or ${envName})`);
  const answer = await ask(`${question}: `);
  if (!answer) throw new UsageError(`${question} is required`);
  return answer;
}

async function passwordOf(options: LoginOptions): Promise<string> {
  if (options.passwordStdin || (!process.env.DBAAS_PASSWORD && !process.stdin.isTTY)) {
    const password = await readStdin();
    if (!password) throw new UsageError('no password on standard input');
    return password;
  }
  if (process.env.DBAAS_PASSWORD) return process.env.DBAAS_PASSWORD;
  const password = await ask('Password: ', true);
  if (!password) throw new UsageError('the password is required');
  return password;
}

async function login(options: LoginOptions): Promise<void> {
  const url = normalizeUrl(await valueOf(options.url, 'DBAAS_URL', 'API URL'), 'the API URL');
  const user = await valueOf(options.user, 'DBAAS_USER', 'User');
  const password = await passwordOf(options);
  // Any authenticated read proves the password; a wrong one is a 401 (exit code 3).
  await new ApiClient({ url, user, password }).get('/api/database/?page_size=1');
  const path = await saveLogin({ url, user, password });
  process.stdout.write(`Logged in to ${url} as ${user}. Saved in ${path} (mode 0600).\n`);
}

async function logout(): Promise<void> {
  const path = configPath();
  process.stdout.write(
    (await removeLogin()) ? `Logged out: removed ${path}.\n` : `Not logged in: no ${path}.\n`,
  );
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('Check a user and password against the API and save them for the next commands.')
    .option(
      '--url <url>',
      'the API, e.g. https://dbaas.example.com (default: DBAAS_URL, else asked)',
    )
    .option('--user <name>', 'API user (default: DBAAS_USER, else asked)')
    .option('--password-stdin', 'read the password from standard input')
    .addHelpText(
      'after',
      `
The password comes from DBAAS_PASSWORD, else standard input when it is not a terminal
(or with --password-stdin), else it is asked without echo. It is checked against the API
before anything is saved. URL, user and password are saved in
$XDG_CONFIG_HOME/dbaas/config.json (default ~/.config/dbaas/config.json), file 0600 in a
0700 folder. Without a saved login the CLI uses DBAAS_URL, DBAAS_USER and DBAAS_PASSWORD;
each of them wins over the file.

Examples:
  dbaas login --url http://localhost:8000 --user admin
  echo "$PW" | dbaas login --url https://dbaas.example.com --user alice --password-stdin`,
    )
    .action(login);

  program
    .command('logout')
    .description('Remove the saved login (the config file written by dbaas login).')
    .action(logout);
}
