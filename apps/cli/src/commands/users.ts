import { Command, InvalidArgumentError, Option } from 'commander';
import { readNewUserPassword } from '../api/prompt';
import { jsonOption, OutputOptions, outputOption, printJson, wantsJson } from '../output';
import { apiClient } from './common';

const ROLES = ['dba', 'regular', 'broker'];

function teamId(value: string, previous: number[] = []): number[] {
  if (!/^[1-9]\d{0,9}$/.test(value))
    throw new InvalidArgumentError('a team id is a positive integer');
  return [...previous, Number(value)];
}

async function createUser(
  username: string,
  options: OutputOptions & { role: string; team: number[] },
): Promise<void> {
  const client = await apiClient();
  const password = await readNewUserPassword();
  const answer = await client.request<{ id: number; username: string; role: string }>(
    'POST',
    '/api/user/',
    { username, password, role: options.role, teams: options.team.map((id) => `/api/team/${id}/`) },
  );
  const user = answer.body;
  if (wantsJson(options)) return printJson(user);
  process.stdout.write(`Created user ${user.username} (id ${user.id}, ${user.role})\n`);
}

export function registerUsers(program: Command): void {
  program
    .command('create-user')
    .description('Create an API user (POST /api/user/, needs a dba login).')
    .argument('<username>', 'login name')
    .addOption(
      new Option('--role <role>', 'dba (everything), regular (its teams) or broker (OSB platforms)')
        .choices(ROLES)
        .makeOptionMandatory(),
    )
    .option('--team <id>', 'team id to join; repeat for several teams', teamId, [])
    .addOption(outputOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nThe password is read from DBAAS_NEW_USER_PASSWORD, else from standard input.\n\nExample:\n  echo "s3cret-pw" | dbaas create-user alice --role regular --team 2',
    )
    .action(createUser);
}
