/**
 * The embedded-store scenario: the built API started as `npm start` starts it, without
 * DATABASE_URL, so it runs its own PostgreSQL server (data in DBAAS_DATA_DIR). Measured:
 * footprint (the API process plus the server and its backends, see `footprint`) idle and
 * under the read path's detail load, detail throughput, and restart to the first authenticated answer.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess } from '../test/e2e/support/api-process';
import { TestStack } from '../test/e2e/support/test-stack';
import { freePort } from '../test/harness';
import { footprint, Footprint, FootprintSampler, load, LoadResult, median, round } from './load';

const RESTARTS = 5;
/** A first start runs initdb: slow on a busy machine. */
const FIRST_START_MS = 120_000;
const RESTART_TIMEOUT_MS = 30_000;

export interface EmbeddedResult {
  /** Memory after start-up and one database created, before any load. */
  idle: Footprint;
  /** The highest total sampled (every 250 ms) during the detail load. */
  peak: Footprint;
  detail: LoadResult;
  /** Seconds from spawning the API to its first 200 on the detail route, one per restart. */
  restartsSeconds: number[];
  restartSeconds: number;
}

export interface EmbeddedOptions {
  stack: TestStack;
  /** The PostgreSQL plan (the same sample catalog, so the same id). */
  plan: number;
  authorization: string;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  log(message: string): void;
}

export async function embeddedScenario(options: EmbeddedOptions): Promise<EmbeddedResult> {
  const { stack, authorization, log } = options;
  const folder = mkdtempSync(join(tmpdir(), 'dbaas-bench-embedded-'));
  // As root the server runs as user `postgres`, which must be able to enter the parents.
  chmodSync(folder, 0o755);
  const dataDir = join(folder, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  // The sample infras point at the bench's own engines, as in the external-store stack.
  const sampleUrls = Object.fromEntries(
    Object.entries(stack.api.env).filter(([key]) => key.startsWith('DBAAS_SAMPLE_')),
  );
  const env = {
    ...sampleUrls,
    DBAAS_SAMPLE_DATABASES: 'false',
    DBAAS_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  };
  const port = await freePort();
  log('embedded store: first start (initdb), then one database created through the API');
  const api = await ApiProcess.start(env, port, FIRST_START_MS);
  try {
    const base = api.baseUrl;
    const name = `bench_embedded_${Date.now().toString(36)}`;
    const created = await fetch(`${base}/api/database/`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ name, plan: options.plan, environment: 1 }),
    });
    const text = await created.text();
    if (created.status !== 201) throw new Error(`create ${name}: ${created.status} ${text}`);
    const detailUrl = `${base}/api/database/${(JSON.parse(text) as { id: number }).id}/`;

    const postmaster = Number(
      readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    const measure = () => footprint(api.pid, [postmaster]);
    await firstAnswer(api, detailUrl, authorization); // one answer before "idle"
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idle = measure();

    log(
      `embedded store: detail, ${options.connections} connections, ${options.seconds} s, PSS sampled`,
    );
    const sampler = new FootprintSampler(measure);
    sampler.start();
    await load(detailUrl, authorization, options.connections, options.warmupSeconds);
    const detail = await load(detailUrl, authorization, options.connections, options.seconds);
    const peak = sampler.stop();

    log(`embedded store: ${RESTARTS} restarts (SIGTERM, start on the same data folder)`);
    await api.stop();
    const restartsSeconds = await startsToFirstAnswer(
      env,
      new URL(detailUrl).pathname,
      authorization,
    );
    return {
      idle,
      peak,
      detail,
      restartsSeconds,
      restartSeconds: round(median(restartsSeconds), 3),
    };
  } finally {
    await api.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Starts the API `RESTARTS` times with `env`, each time once the previous one has stopped
 * (SIGTERM): seconds from the spawn to the first 200 on `path`.
 */
export async function startsToFirstAnswer(
  env: Record<string, string>,
  path: string,
  authorization: string,
): Promise<number[]> {
  const port = await freePort();
  const seconds: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    const t0 = performance.now();
    const api = ApiProcess.spawn(env, port);
    try {
      await firstAnswer(api, api.baseUrl + path, authorization);
    } finally {
      await api.stop();
    }
    seconds.push(round((performance.now() - t0) / 1000, 3));
  }
  return seconds;
}

/** Polls `url` every 10 ms until it answers 200. */
async function firstAnswer(api: ApiProcess, url: string, authorization: string): Promise<void> {
  const deadline = performance.now() + RESTART_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (api.ended) throw new Error(`the API exited:\n${api.logs}`);
    try {
      const response = await fetch(url, { headers: { authorization } });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the API did not answer ${url} within ${RESTART_TIMEOUT_MS} ms`);
}
