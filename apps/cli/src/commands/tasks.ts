import { Command, InvalidArgumentError, Option } from 'commander';
import { waitUntilDone } from '../api/wait';
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
import { apiClient, databaseId, positiveId } from './common';

const STATUSES = ['waiting', 'running', 'success', 'error'];

interface Task {
  id: number;
  type: string;
  status: string;
  database_name: string | null;
  error: string | null;
  created_at: string;
  ended_at: string | null;
  [field: string]: unknown;
}

function printTask(task: Task, options: OutputOptions): void {
  if (wantsJson(options)) printJson(task);
  else printDetail(task);
}

async function list(
  options: OutputOptions & { database?: string; status?: string; type?: string; limit: number },
): Promise<void> {
  const client = await apiClient();
  const database = options.database
    ? String(await databaseId(client, options.database))
    : undefined;
  // Newest first; one page of `limit` (the history only grows).
  const params = new URLSearchParams({ page_size: String(options.limit) });
  if (database) params.set('database', database);
  if (options.status) params.set('status', options.status);
  if (options.type) params.set('type', options.type);
  const tasks = (await client.get<{ task: Task[] }>(`/api/task/?${params.toString()}`)).task;
  if (wantsJson(options)) return printJson(tasks);
  printTable(
    ['ID', 'TYPE', 'STATUS', 'DATABASE', 'CREATED_AT', 'ENDED_AT', 'ERROR'],
    tasks.map((t) => [
      String(t.id),
      t.type,
      t.status,
      cell(t.database_name),
      t.created_at,
      cell(t.ended_at),
      cell(t.error),
    ]),
    'No tasks.',
  );
}

async function show(id: number, options: OutputOptions): Promise<void> {
  const client = await apiClient();
  printTask(await client.get<Task>(`/api/task/${id}/`), options);
}

async function wait(id: number, options: OutputOptions): Promise<void> {
  const client = await apiClient();
  printTask(await waitUntilDone<Task>(client, `/api/task/${id}/`, `task ${id}`), options);
}

function positiveLimit(value: string): number {
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 100)
    throw new InvalidArgumentError('a number from 1 to 100');
  return Number(value);
}

export function registerTasks(program: Command): void {
  const tasks = program
    .command('tasks')
    .description('History of every operation on an engine (newest first), over the API.');
  tasks
    .command('list')
    .description('List tasks: id, type, status, database, created_at, ended_at, error.')
    .option('--database <database>', 'only those of this database (id or name)')
    .addOption(new Option('--status <status>', 'only in this status').choices(STATUSES))
    .option('--type <type>', 'only of this type, e.g. create_database')
    .option('--limit <n>', 'how many, newest first (1-100)', positiveLimit, 20)
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(list);
  tasks
    .command('show')
    .description('Show one task.')
    .argument('<id>', 'task id', positiveId)
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(show);
  tasks
    .command('wait')
    .description('Wait until a task ends, with its state on stderr; exit 1 if it ended in error.')
    .argument('<id>', 'task id', positiveId)
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(wait);
}
