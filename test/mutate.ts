/**
 * `npm run mutate [-- <stryker options>]`: StrykerJS (stryker.config.mjs) with one throwaway
 * PostgreSQL for the whole run. The medium specs' stores become databases on it
 * (DBAAS_TEST_STORE_SERVER, see test/harness/store.harness.ts) instead of a new server for
 * every mutant. The server is removed when Stryker ends, whatever its result.
 */
import { spawn } from 'node:child_process';
import { startPostgres } from './harness/postgres.harness';
import { SHARED_STORE_SERVER_ENV } from './harness/shared-store-server';

async function main(): Promise<void> {
  const server = await startPostgres();
  try {
    process.exitCode = await new Promise<number>((resolve, reject) => {
      const stryker = spawn('npx', ['stryker', 'run', ...process.argv.slice(2)], {
        stdio: 'inherit',
        env: { ...process.env, [SHARED_STORE_SERVER_ENV]: server.url },
      });
      stryker.on('error', reject);
      stryker.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await server.destroy();
  }
}

void main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
