#!/usr/bin/env node
import { UsersService } from '@dbaas/auth';
import { ConfigError, DomainError, loadConfig } from '@dbaas/core';
import { describeStore, ROLES, Role } from '@dbaas/persistence';
import { QuarantineService } from '@dbaas/quarantine';
import { SampleDataService } from '@dbaas/sample-data';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CliModule } from './cli.module';

const HELP = `Usage: dbaas <command> [options]

Commands:
  migrate                      Apply pending metadata store migrations.
  reset-data                   Empty the store and recreate the sample data
                               (admin/123456, user/123456, the sample catalog).
  purge-quarantine             Remove for good the databases quarantined longer than
                               QUARANTINE_RETENTION_DAYS (default 7).
  create-user <username> --role dba|regular [--team <team id>]...
                               Create an API user; the password is read from
                               DBAAS_NEW_USER_PASSWORD or standard input.
  help                         Show this text.

Configuration comes from the environment (DATABASE_URL, DBAAS_DATA_DIR, DBAAS_SECRET_KEY, ...),
exactly as for the API. Exit codes: 0 done, 1 failed, 2 bad usage.`;

class UsageError extends Error {}

async function withContext<T>(work: (context: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  process.stderr.write(`Metadata store: ${describeStore(config)}\n`);
  const context = await NestFactory.createApplicationContext(CliModule.forRoot(config), {
    logger: ['error', 'warn'],
  });
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}

async function readPassword(): Promise<string> {
  if (process.env.DBAAS_NEW_USER_PASSWORD) return process.env.DBAAS_NEW_USER_PASSWORD;
  if (process.stdin.isTTY)
    throw new UsageError('set DBAAS_NEW_USER_PASSWORD or pipe the password on standard input');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function createUser(args: string[]): Promise<void> {
  const [username, ...rest] = args;
  if (!username || username.startsWith('-')) throw new UsageError('create-user needs a username');
  let role: Role | undefined;
  const teams: number[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (flag === '--role' && ROLES.includes(value as Role)) role = value as Role;
    else if (flag === '--team' && /^\d+$/.test(value ?? '')) teams.push(Number(value));
    else throw new UsageError(`unexpected argument ${flag}`);
  }
  if (!role) throw new UsageError('create-user needs --role dba or --role regular');
  const password = await readPassword();
  if (password.length < 6) throw new UsageError('the password must have at least 6 characters');
  await withContext(async (context) => {
    const user = await context
      .get(UsersService)
      .createDirect({ username, password, role: role!, teams });
    process.stdout.write(`Created user ${user.username} (id ${user.id}, ${user.role})\n`);
  });
}

async function purgeQuarantine(): Promise<void> {
  const result = await withContext((context) =>
    context.get(QuarantineService).purge(new Date(), (done, total, name) => {
      process.stderr.write(`[${done}/${total}] ${name}\n`);
    }),
  );
  process.stdout.write(
    `Purged ${result.purged.length} database(s); ${result.failed.length} failed.\n`,
  );
  if (result.failed.length)
    throw new Error(`could not purge: ${result.failed.join(', ')} (retried next run)`);
}

async function run(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'migrate':
      // Creating the context applies pending migrations (PersistenceModule runs them at start).
      await withContext(async () => process.stdout.write('Migrations applied.\n'));
      return;
    case 'reset-data':
      await withContext((context) => context.get(SampleDataService).reset());
      process.stdout.write('Sample data recreated: admin/123456 (dba), user/123456 (regular).\n');
      return;
    case 'purge-quarantine':
      return purgeQuarantine();
    case 'create-user':
      return createUser(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n`);
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

run(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`dbaas: ${error.message}\n\n${HELP}\n`);
      process.exit(2);
    }
    const message =
      error instanceof ConfigError
        ? `invalid configuration: ${error.message}`
        : error instanceof DomainError
          ? error.message
          : error instanceof Error
            ? error.message
            : String(error);
    process.stderr.write(`dbaas: ${message}\n`);
    process.exit(1);
  },
);
