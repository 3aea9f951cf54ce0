import { Command, Option } from 'commander';
import { settle } from '../api/wait';
import {
  jsonOption,
  Names,
  OutputOptions,
  outputOption,
  printDetail,
  printJson,
  printTable,
  wantsJson,
} from '../output';
import { apiClient, databaseId, noWaitOption, positiveId } from './common';

const PRIVILEGES = ['owner', 'read-write', 'read-only'];

interface Credential {
  id: number;
  user: string;
  database: string;
  privileges: string;
  created_at: string;
  password?: string;
  [field: string]: unknown;
}

async function list(options: OutputOptions & { database?: string }): Promise<void> {
  const client = await apiClient();
  const query = options.database
    ? { database: String(await databaseId(client, options.database)) }
    : {};
  const credentials = await client.list<Credential>('credential', query);
  if (wantsJson(options)) return printJson(credentials);
  const names = new Names(client);
  const rows = await Promise.all(
    credentials.map(async (c) => [
      String(c.id),
      c.user,
      await names.of(c.database),
      c.privileges,
      c.created_at,
    ]),
  );
  printTable(['ID', 'USER', 'DATABASE', 'PRIVILEGES', 'CREATED_AT'], rows, 'No credentials.');
}

async function printCredential(credential: Credential, options: OutputOptions): Promise<void> {
  if (wantsJson(options)) return printJson(credential);
  const names = new Names(await apiClient());
  printDetail({ ...credential, database: await names.of(credential.database) });
}

async function show(id: number, options: OutputOptions): Promise<void> {
  const client = await apiClient();
  await printCredential(await client.get<Credential>(`/api/credential/${id}/`), options);
}

async function create(
  user: string,
  options: OutputOptions & { database: string; privileges?: string; wait: boolean },
): Promise<void> {
  const client = await apiClient();
  const answer = await client.request<Credential>('POST', '/api/credential/', {
    user,
    database: await databaseId(client, options.database),
    privileges: options.privileges,
  });
  await printCredential(await settle(client, answer, { wait: options.wait }), options);
}

async function resetPassword(
  id: number,
  options: OutputOptions & { wait: boolean },
): Promise<void> {
  const client = await apiClient();
  const answer = await client.request<Credential>('POST', `/api/credential/${id}/reset_password/`);
  await printCredential(await settle(client, answer, { wait: options.wait }), options);
}

async function remove(id: number, options: OutputOptions & { wait: boolean }): Promise<void> {
  const client = await apiClient();
  const before = await client.get<Credential>(`/api/credential/${id}/`);
  await settle(client, await client.request('DELETE', `/api/credential/${id}/`), options);
  if (wantsJson(options)) return printJson({ id, user: before.user, outcome: 'deleted' });
  process.stdout.write(`Deleted credential ${before.user} (id ${id}): dropped on its engine.\n`);
}

export function registerCredentials(program: Command): void {
  const credentials = program
    .command('credentials')
    .description('Credentials (engine users) of your databases, over the API.');
  credentials
    .command('list')
    .description('List credentials: id, user, database, privileges, created_at (never passwords).')
    .option('--database <database>', 'only those of this database (id or name)')
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(list);
  credentials
    .command('show')
    .description('Show one credential with its password.')
    .argument('<id>', 'credential id', positiveId)
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(show);
  credentials
    .command('create')
    .description(
      "Create a user on the database's engine with a generated password (printed once here, and by show).",
    )
    .argument('<user>', 'user name, normalized like database names')
    .requiredOption('--database <database>', 'database id or name')
    .addOption(
      new Option('--privileges <privileges>', 'what the user may do (default owner)').choices(
        PRIVILEGES,
      ),
    )
    .addOption(noWaitOption())
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(create);
  credentials
    .command('reset-password')
    .alias('rotate')
    .description('Generate a new password; the old one stops working at once.')
    .argument('<id>', 'credential id', positiveId)
    .addOption(noWaitOption())
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(resetPassword);
  credentials
    .command('delete')
    .description('Drop the user on its engine, then the credential.')
    .argument('<id>', 'credential id', positiveId)
    .addOption(noWaitOption())
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(remove);
}
