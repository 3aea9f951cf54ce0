import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { EngineServer, startMariaDb, startPostgres, startRedis } from '../../harness';
import { ApiProcess, newSecretKey } from './api-process';
import { HttpClient } from './http-client';

/** A closed local port: sample infras pointed here are skipped quickly by reset-data. */
export const CLOSED_ADDRESS = '127.0.0.1:9';

export interface TestStack {
  pg: EngineServer;
  mariadb?: EngineServer;
  redis?: EngineServer;
  /** URL of this stack's own metadata database. */
  metadataUrl: string;
  api: ApiProcess;
  http: HttpClient;
  /** Runs SQL on the metadata store directly (to check what is stored). */
  metadata<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Start MariaDB and Redis too (PostgreSQL always runs: it holds the metadata). */
  engines?: boolean;
  env?: Record<string, string>;
  /** Run `reset-data` before starting the API. */
  resetData?: boolean;
  /**
   * With `--with-databases` (the default here, most suites use them): the sample databases,
   * `my_first_database` as database 1. False: the catalog only, as a plain `reset-data`.
   */
  sampleDatabases?: boolean;
  port?: number;
}

/**
 * Throwaway engines with real password auth, a fresh metadata database on the PostgreSQL
 * one, and the built API running against them. The sample infras point at these engines
 * (MongoDB at a closed port: there is no MongoDB server on these machines).
 */
export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const [pg, mariadb, redis] = await Promise.all([
    startPostgres(),
    options.engines ? startMariaDb() : undefined,
    options.engines ? startRedis() : undefined,
  ]);
  const metadataDb = `meta_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${metadataDb}`);
  await admin.end();
  const metadataUrl = pg.url.replace(/\/postgres$/, `/${metadataDb}`);
  const url = (scheme: string, server?: EngineServer) =>
    server
      ? `${scheme}://${server.adminUser}:${encodeURIComponent(server.adminPassword)}@${server.address}`
      : `${scheme}://admin:x@${CLOSED_ADDRESS}`;
  const env = {
    DATABASE_URL: metadataUrl,
    DBAAS_SECRET_KEY: newSecretKey(),
    DBAAS_SAMPLE_POSTGRESQL_URL: url('postgresql', pg),
    DBAAS_SAMPLE_MYSQL_URL: url('mysql', mariadb),
    DBAAS_SAMPLE_REDIS_URL: url('redis', redis),
    DBAAS_SAMPLE_MONGODB_URL: url('mongodb'),
    ...options.env,
  };
  let api: ApiProcess | undefined;
  const stop = async () => {
    await api?.stop();
    await Promise.all([pg.destroy(), mariadb?.destroy(), redis?.destroy()]);
  };
  try {
    if (options.resetData !== false) {
      const { runNode, CLI_MAIN } = await import('./api-process');
      const args = options.sampleDatabases === false ? [] : ['--with-databases'];
      const reset = await runNode(CLI_MAIN, ['reset-data', ...args], env, 120_000);
      if (reset.code !== 0) throw new Error(`reset-data failed:\n${reset.stdout}\n${reset.stderr}`);
    }
    api = await ApiProcess.start(env, options.port);
  } catch (error) {
    await stop();
    throw error;
  }
  const started = api;
  return {
    pg,
    mariadb,
    redis,
    metadataUrl,
    api: started,
    http: new HttpClient(started.baseUrl),
    async metadata(sql, params) {
      const client = new Client({ connectionString: metadataUrl });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    stop,
  };
}
