/**
 * Store-level commands: they open the metadata store (and the engines) directly, with the
 * API's own configuration (DATABASE_URL, DBAAS_DATA_DIR, DBAAS_SECRET_KEY, ...), because
 * there is no API route for them or the API may not run yet. Everything else in the CLI
 * is an HTTP client of the API (apps/cli/src/commands).
 *
 * Every command here goes through `withStore`, the one place that opens the store.
 */
import { UsersService } from '@dbaas/auth';
import { loadConfig } from '@dbaas/core';
import { openStore, StoreLog } from '@dbaas/persistence';
import { QuarantineService } from '@dbaas/quarantine';
import { SampleDataService } from '@dbaas/sample-data';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readNewUserPassword } from '../api/prompt';
import { FailedError } from '../errors';
import { Progress } from '../progress';
import { StoreModule } from './store.module';

/** The store's start-up messages: progress, so stderr (stdout is for results). */
const toStderr: StoreLog = {
  log: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`${message}\n`),
};

/**
 * Opens the store for one command. The embedded store has one owner: while the API (or
 * another command) runs on it, this stops with one line naming that process.
 */
async function withStore<T>(work: (context: INestApplicationContext) => Promise<T>): Promise<T> {
  const command = `dbaas ${process.argv[2] ?? ''}`.trim();
  const store = await openStore(loadConfig(), command, toStderr, (message) => {
    process.stderr.write(`dbaas: ${message}\n`);
    process.exit(1);
  });
  try {
    process.stderr.write(`Metadata store: ${store.description}\n`);
    const context = await NestFactory.createApplicationContext(StoreModule.forRoot(store.config), {
      logger: ['error', 'warn'],
    });
    try {
      return await work(context);
    } finally {
      await context.close();
    }
  } finally {
    await store.close();
  }
}

export async function migrate(): Promise<void> {
  // Creating the context applies pending migrations (PersistenceModule runs them at start).
  await withStore(async () => undefined);
  process.stdout.write('Migrations applied.\n');
}

export async function resetData(options: { withDatabases?: boolean }): Promise<void> {
  const withDatabases = Boolean(options.withDatabases);
  await withStore((context) => context.get(SampleDataService).reset({ withDatabases }));
  process.stdout.write(
    `Sample data recreated: admin/123456 (dba), user/123456 (regular)${withDatabases ? ', with the sample databases' : ''}.\n`,
  );
}

export async function purgeQuarantine(): Promise<void> {
  const progress = new Progress('Purging');
  const result = await withStore((context) =>
    context.get(QuarantineService).purge(new Date(), (done, total, name) => {
      progress.step(done, total, name);
    }),
  );
  const kept = result.kept.length ? ` ${result.kept.length} kept (protected meanwhile);` : '';
  process.stdout.write(
    `Purged ${result.purged.length} database(s);${kept} ${result.failed.length} failed.\n`,
  );
  if (result.failed.length)
    throw new FailedError(`could not purge: ${result.failed.join(', ')} (retried next run)`);
}

/** The first dba of an install without sample data, written straight into the store. */
export async function createAdmin(username: string): Promise<void> {
  const password = await readNewUserPassword();
  await withStore(async (context) => {
    const user = await context
      .get(UsersService)
      .createDirect({ username, password, role: 'dba', teams: [] });
    process.stdout.write(`Created user ${user.username} (id ${user.id}, ${user.role})\n`);
  });
}
