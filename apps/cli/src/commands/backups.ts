import { Command, Option } from 'commander';
import { follow, formatBytes } from '../api/follow';
import { taskUrlOf, waitUntilDone } from '../api/wait';
import { UsageError } from '../errors';
import {
  cell,
  jsonOption,
  OutputOptions,
  outputOption,
  printDetail,
  printJson,
  printTable,
  wantsJson,
} from '../output';
import { apiClient, databaseId, noWaitOption, positiveId } from './common';

interface Backup {
  id: number;
  database: string | null;
  database_name: string;
  engine: string;
  kind: string;
  status: string;
  size_in_bytes: number | null;
  created_at: string;
  finished_at: string | null;
  expires_at: string | null;
  task: string | null;
  error: string | null;
  [field: string]: unknown;
}

interface Task {
  id: number;
  status: string;
  error: string | null;
}

function print(value: Record<string, unknown>, options: OutputOptions): void {
  if (wantsJson(options)) printJson(value);
  else printDetail(value);
}

async function backup(idOrName: string, options: OutputOptions & { wait: boolean }): Promise<void> {
  const client = await apiClient();
  const id = await databaseId(client, idOrName);
  const answer = await client.request<Backup>('POST', `/api/database/${id}/backup/`);
  let result = answer.body;
  if (options.wait) {
    const url = answer.headers.get('location') ?? `/api/backup/${result.id}/`;
    result = await follow<Backup>(client, url, `backup ${result.id}`, {
      pending: ['running'],
      failed: ['failed'],
      detail: (current) =>
        current.size_in_bytes != null ? formatBytes(current.size_in_bytes) : undefined,
    });
  } else {
    process.stderr.write(
      `Accepted; not waiting. Follow it with: dbaas backups show ${result.id}\n`,
    );
  }
  print(result, options);
}

async function list(
  options: OutputOptions & { database?: string; status?: string; kind?: string },
): Promise<void> {
  const client = await apiClient();
  const database = options.database
    ? String(await databaseId(client, options.database))
    : undefined;
  const backups = await client.list<Backup>('backup', {
    database,
    status: options.status,
    kind: options.kind,
  });
  if (wantsJson(options)) return printJson(backups);
  printTable(
    ['ID', 'DATABASE', 'KIND', 'STATUS', 'SIZE', 'CREATED_AT', 'EXPIRES_AT'],
    backups.map((b) => [
      String(b.id),
      b.database_name,
      b.kind,
      b.status,
      b.size_in_bytes != null ? formatBytes(b.size_in_bytes) : '-',
      b.created_at,
      cell(b.expires_at),
    ]),
    'No backups.',
  );
}

async function show(id: number, options: OutputOptions): Promise<void> {
  const client = await apiClient();
  print(await client.get<Backup>(`/api/backup/${id}/`), options);
}

async function remove(id: number, options: OutputOptions): Promise<void> {
  const client = await apiClient();
  await client.request('DELETE', `/api/backup/${id}/`);
  if (wantsJson(options)) return printJson({ id, outcome: 'deleted' });
  process.stdout.write(`Deleted backup ${id} and its file.\n`);
}

async function restore(
  id: number,
  options: OutputOptions & { yes?: boolean; wait: boolean },
): Promise<void> {
  const client = await apiClient();
  const source = await client.get<Backup>(`/api/backup/${id}/`);
  if (!options.yes)
    throw new UsageError(
      `restoring backup ${id} replaces every table or key of ${source.database_name} with the backup's data (from ${source.created_at}); add --yes to do so`,
    );
  const answer = await client.request<unknown>('POST', `/api/backup/${id}/restore/`);
  const taskUrl = taskUrlOf(answer.body, answer.headers.get('location') ?? undefined);
  if (!options.wait || !taskUrl) {
    process.stderr.write(
      `Accepted; not waiting. Follow it with: ${taskUrl ?? 'dbaas tasks list'}\n`,
    );
    if (wantsJson(options)) printJson(answer.body);
    return;
  }
  const task = await waitUntilDone<Task>(client, taskUrl, `restore of backup ${id}`);
  if (wantsJson(options)) return printJson(task);
  process.stdout.write(
    `Restored ${source.database_name} from backup ${id} (${source.created_at}); credentials and passwords are unchanged.\n`,
  );
}

interface Database {
  id: number;
  name: string;
  status: string;
  [field: string]: unknown;
}

async function clone(
  idOrName: string,
  name: string,
  options: OutputOptions & { plan?: string; environment?: string; wait: boolean },
): Promise<void> {
  const client = await apiClient();
  const id = await databaseId(client, idOrName);
  const answer = await client.request<Database>('POST', `/api/database/${id}/clone/`, {
    name,
    plan: options.plan,
    environment: options.environment,
  });
  const location = answer.headers.get('location');
  const taskUrl = taskUrlOf(answer.body, location ?? undefined);
  if (options.wait && taskUrl) await waitUntilDone<Task>(client, taskUrl, `clone into ${name}`);
  else if (!options.wait)
    process.stderr.write(`Accepted; not waiting. Follow it with: dbaas databases show ${name}\n`);
  const made =
    options.wait && location
      ? await waitUntilDone<Database>(client, location, `database ${name}`)
      : answer.body;
  if (wantsJson(options)) return printJson(made);
  printDetail(made);
  const owner = (made.credentials as Array<{ id: number }> | undefined)?.[0];
  if (owner) process.stderr.write(`Its owner's password: dbaas credentials show ${owner.id}\n`);
}

export function registerBackups(program: Command): void {
  program
    .command('backup')
    .description('Back up a database now (a manual backup, kept until deleted).')
    .argument('<database>', 'id or name')
    .addOption(noWaitOption())
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(backup);
  const backups = program
    .command('backups')
    .description('Backups of the databases you may see, over the API.');
  backups
    .command('list', { isDefault: true })
    .description('List backups, newest first: id, database, kind, status, size, dates.')
    .option('--database <database>', 'only the backups of this database (id or name)')
    .addOption(new Option('--status <status>').choices(['running', 'ready', 'failed']))
    .addOption(new Option('--kind <kind>').choices(['manual', 'scheduled', 'final']))
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(list);
  backups
    .command('show')
    .description('Show one backup.')
    .argument('<backup>', 'backup id', positiveId)
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(show);
  backups
    .command('delete')
    .description('Delete a backup and its file.')
    .argument('<backup>', 'backup id', positiveId)
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(remove);
  program
    .command('restore')
    .description(
      "Restore a backup in place: its database becomes exactly the backup's data (needs --yes).",
    )
    .argument('<backup>', 'backup id', positiveId)
    .option('--yes', "confirm replacing the database's data")
    .addOption(noWaitOption())
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(restore);
  program
    .command('clone')
    .description('Clone a live database into a new one, with its own owner credential u_<name>.')
    .argument('<database>', 'the source: id or name')
    .argument('<name>', 'the new database')
    .option('--plan <plan>', "plan id or URL (default: the source's)")
    .option('--environment <environment>', "environment id or URL (default: the source's)")
    .addOption(noWaitOption())
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(clone);
}
