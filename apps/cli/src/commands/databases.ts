import { Command } from 'commander';
import { ApiClient } from '../api/client';
import { settle } from '../api/wait';
import { UsageError } from '../errors';
import {
  cell,
  jsonOption,
  Names,
  OutputOptions,
  outputOption,
  printDetail,
  printJson,
  printTable,
  wantsJson,
} from '../output';
import { apiClient, databaseId, noWaitOption } from './common';

interface Database {
  id: number;
  name: string;
  endpoint: string;
  plan: string;
  environment: string;
  team: string;
  engine: string;
  status: string;
  quarantine_dt: string | null;
  is_protected?: boolean;
  tags?: string[];
  [field: string]: unknown;
}

/** Collects a repeatable option (`--tag a --tag b`). */
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

async function list(
  options: OutputOptions & { quarantined?: boolean; tag?: string[] },
): Promise<void> {
  const client = await apiClient();
  const databases = await client.list<Database>('database', {
    quarantine: options.quarantined ? 'true' : undefined,
    tag: options.tag,
  });
  if (wantsJson(options)) return printJson(databases);
  const names = new Names(client);
  const rows = await Promise.all(
    databases.map(async (db) => [
      String(db.id),
      db.name,
      await names.of(db.engine),
      await names.of(db.environment),
      await names.of(db.team),
      db.status,
      cell(db.quarantine_dt),
      db.is_protected ? 'yes' : '-',
      cell(db.tags),
    ]),
  );
  printTable(
    ['ID', 'NAME', 'ENGINE', 'ENVIRONMENT', 'TEAM', 'STATUS', 'QUARANTINE_DT', 'PROTECTED', 'TAGS'],
    rows,
    'No databases.',
  );
}

/** A database with its references named for people: plan, environment, team, engine. */
async function printDatabase(client: ApiClient, db: Database): Promise<void> {
  const names = new Names(client);
  const named = { ...db };
  for (const field of ['plan', 'environment', 'project', 'team', 'engine'])
    if (typeof db[field] === 'string') named[field] = await names.of(db[field] as string);
  printDetail(named);
}

async function show(idOrName: string, options: OutputOptions): Promise<void> {
  const client = await apiClient();
  const db = await client.get<Database>(`/api/database/${await databaseId(client, idOrName)}/`);
  if (wantsJson(options)) return printJson(db);
  await printDatabase(client, db);
}

interface CreateOptions extends OutputOptions {
  plan: string;
  environment: string;
  team?: string;
  project?: string;
  description?: string;
  protected?: boolean;
  tag?: string[];
  wait: boolean;
}

async function create(name: string, options: CreateOptions): Promise<void> {
  const client = await apiClient();
  const answer = await client.request<Database>('POST', '/api/database/', {
    name,
    plan: options.plan,
    environment: options.environment,
    team: options.team,
    project: options.project,
    description: options.description,
    is_protected: options.protected,
    tags: options.tag,
  });
  const db = await settle(client, answer, { wait: options.wait });
  if (wantsJson(options)) return printJson(db);
  await printDatabase(client, db);
  const owner = (db.credentials as Array<{ id: number }> | undefined)?.[0];
  if (owner) process.stderr.write(`Its password: dbaas credentials show ${owner.id}\n`);
}

interface UpdateOptions extends OutputOptions {
  description?: string;
  protect?: boolean;
  unprotect?: boolean;
  tag?: string[];
  clearTags?: boolean;
  plan?: string;
  wait: boolean;
}

async function update(idOrName: string, options: UpdateOptions): Promise<void> {
  if (options.protect && options.unprotect)
    throw new UsageError('give --protect or --unprotect, not both');
  if (options.tag && options.clearTags)
    throw new UsageError('give --tag or --clear-tags, not both');
  const changes = {
    description: options.description,
    is_protected: options.protect ? true : options.unprotect ? false : undefined,
    tags: options.clearTags ? [] : options.tag,
    plan: options.plan,
  };
  if (Object.values(changes).every((value) => value === undefined))
    throw new UsageError(
      'nothing to change: give --description, --protect, --unprotect, --tag, --clear-tags or --plan',
    );
  const client = await apiClient();
  const id = await databaseId(client, idOrName);
  // A plan its server does not serve moves the database (202 and a task): waited for
  // with a progress line, then the database is shown as it ended, unless --no-wait.
  const answer = await client.request<Database>('PATCH', `/api/database/${id}/`, changes);
  const db = await settle(client, answer, { wait: options.wait });
  if (wantsJson(options)) return printJson(db);
  await printDatabase(client, db);
}

async function remove(
  idOrName: string,
  options: OutputOptions & { yes?: boolean; wait: boolean },
): Promise<void> {
  const client = await apiClient();
  const id = await databaseId(client, idOrName);
  const before = await client.get<Database>(`/api/database/${id}/`);
  if (before.quarantine_dt && !options.yes)
    throw new UsageError(
      `${before.name} is quarantined: deleting it again drops it and its data for good; add --yes to do so`,
    );
  const answer = await client.request('DELETE', `/api/database/${id}/`);
  await settle(client, answer, { wait: options.wait });
  const outcome = before.quarantine_dt ? 'deleted' : 'quarantined';
  if (wantsJson(options)) return printJson({ id, name: before.name, outcome });
  process.stdout.write(
    outcome === 'deleted'
      ? `Deleted ${before.name} (id ${id}) for good.\n`
      : `Quarantined ${before.name} (id ${id}): its credentials no longer log in, no data was dropped. A dba can restore it; "dbaas databases delete ${id} --yes" drops it for good.\n`,
  );
}

export function registerDatabases(program: Command): void {
  const databases = program
    .command('databases')
    .description('Databases you may see, over the API.');
  databases
    .command('list')
    .description(
      'List databases: id, name, engine, environment, team, status, quarantine_dt (every page).',
    )
    .option('--quarantined', 'only the quarantined ones (dba)')
    .option('--tag <tag>', 'only those carrying this tag (repeat: all of them)', collect)
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(list);
  databases
    .command('show')
    .description('Show one database (by id or exact name), with its endpoint and credentials.')
    .argument('<database>', 'id or name')
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(show);
  databases
    .command('create')
    .description('Create a database on its engine, with the owner credential u_<name>.')
    .argument('<name>', 'normalized by the API: "test database2" becomes test_database2')
    .requiredOption('--plan <plan>', 'plan id or URL (GET /api/plan/)')
    .requiredOption('--environment <environment>', 'environment id or URL (GET /api/environment/)')
    .option('--team <team>', "team id or URL (default: the user's only team)")
    .option('--project <project>', 'project id or URL')
    .option('--description <text>', 'free text')
    .option('--protected', 'protect it from deletion (a DELETE is refused until --unprotect)')
    .option('--tag <tag>', 'a tag (repeat for several, at most 20)', collect)
    .addOption(noWaitOption())
    .addOption(outputOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      "\nExample:\n  dbaas databases create orders --plan 1 --environment 1\n\nThe owner credential's password: dbaas credentials show <id>.",
    )
    .action(create);
  databases
    .command('update')
    .description(
      'Change the description, the deletion protection, the tags or the plan of a database.',
    )
    .argument('<database>', 'id or name')
    .option('--description <text>', 'free text')
    .option('--protect', 'refuse any DELETE until --unprotect')
    .option('--unprotect', 'allow DELETE again')
    .option('--tag <tag>', 'the new tags, replacing all (repeat for several)', collect)
    .option('--clear-tags', 'remove every tag')
    .option(
      '--plan <plan>',
      "another plan of its engine (id or URL): applied at once if the database's server serves it, else the database moves to a server of that plan (waited for)",
    )
    .addOption(noWaitOption())
    .addOption(outputOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  dbaas databases update orders --protect --tag shop --tag env:prod\n  dbaas databases update orders --plan 5',
    )
    .action(update);
  databases
    .command('delete')
    .description(
      'Quarantine a live database (credentials stop working, data kept); a quarantined one is dropped for good (dba, needs --yes).',
    )
    .argument('<database>', 'id or name')
    .option('--yes', 'confirm dropping a quarantined database for good')
    .addOption(noWaitOption())
    .addOption(outputOption())
    .addOption(jsonOption())
    .action(remove);
}
