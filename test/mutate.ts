/**
 * `npm run mutate [-- <stryker options>]`: StrykerJS (stryker.config.mjs) with one throwaway
 * PostgreSQL for the whole run. The medium specs' stores become databases on it
 * (DBAAS_TEST_STORE_SERVER, see test/harness/shared-store-env.ts) instead of a new server
 * for every mutant. The server is removed once Stryker has ended, whatever its result; a
 * SIGINT or SIGTERM is passed on to Stryker first, so no mutant runs against a server gone.
 * A provider's run (`MUTATE_PROVIDER`, see stryker.config.mjs) opens no store: no server.
 */
import { spawn } from 'node:child_process';
import { startPostgres } from './harness/postgres.harness';
import { SHARED_STORE_SERVER_ENV } from './harness/shared-store-env';

/** Two Jest workers, each with stores of several connection pools, on one server. */
const MAX_CONNECTIONS = 300;

async function main(): Promise<void> {
  let stryker: ReturnType<typeof spawn> | undefined;
  let stopping = false;
  // Registered before the harness's own handlers (which remove the server and exit).
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      stopping = true;
      stryker?.kill(signal);
    });
  const server = process.env.MUTATE_PROVIDER
    ? null
    : await startPostgres({ maxConnections: MAX_CONNECTIONS });
  try {
    if (stopping) return;
    process.exitCode = await new Promise<number>((resolve, reject) => {
      stryker = spawn('npx', ['stryker', 'run', ...process.argv.slice(2)], {
        stdio: 'inherit',
        env: server ? { ...process.env, [SHARED_STORE_SERVER_ENV]: server.url } : process.env,
      });
      stryker.on('error', reject);
      stryker.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await server?.destroy();
  }
}

void main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
