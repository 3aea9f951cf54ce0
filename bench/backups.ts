/**
 * Backup and restore through the API against the engines' own tools run directly, in one
 * run (issue 16): PostgreSQL ~200 MB (`pg_dump -Fc` / `pg_restore`), MariaDB ~100 MB
 * (`mariadb-dump` / `mariadb`), Redis ~200k keys (the Redis dump tool, SCAN + DUMP + PTTL /
 * RESTORE, run in this process without the API). The API's extra work is the task, the
 * AES-256-GCM sealing, the SHA-256 and the storage; its memory must not grow with the data
 * (peak RSS during the runs against its idle RSS just before).
 *
 * Knobs: BENCH_BACKUP_PG_MB (200), BENCH_BACKUP_MARIADB_MB (100), BENCH_BACKUP_REDIS_KEYS
 * (200000), BENCH_BACKUP_ROUNDS (3: direct and API alternate, medians are compared),
 * BENCH_BACKUP_ENGINES (all: `postgresql,mysql,redis`; run alone only).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { TestStack } from '../test/e2e/support/test-stack';
import { EngineServer } from '../test/harness';
import { BenchEngine, benchEngines } from './engines';
import { cpuSecondsOf, MemorySampler, median, round } from './load';

const PG_MB = Number(process.env.BENCH_BACKUP_PG_MB ?? 200);
const MARIADB_MB = Number(process.env.BENCH_BACKUP_MARIADB_MB ?? 100);
const REDIS_KEYS = Number(process.env.BENCH_BACKUP_REDIS_KEYS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_BACKUP_ROUNDS ?? 3);
// How often the API is asked whether a backup or restore is done. The time measured is the
// POST's round trip plus the operation's duration as the API recorded it (its created and
// finished timestamps), so the polling adds nothing to it; each poll costs the API CPU.
const POLL_MS = 250;

export interface BackupBenchResult {
  engine: string;
  /** What was backed up: `212 MB` or `200000 keys`. */
  data: string;
  /** Medians in seconds. */
  direct: { dump: number; restore: number };
  api: { backup: number; restore: number };
  /** Medians of the API process's own CPU time (user + system) during a backup, a restore. */
  apiCpu: { backup: number; restore: number };
  /** Size of the stored (sealed) file and of the direct dump, MB. */
  storedMb: number;
  directMb: number;
  idleRssMb: number;
  peakRssMb: number;
}

interface Context {
  stack: TestStack;
  apiPid: number;
  authorization: string;
  log: (message: string) => void;
}

export async function backupScenario(
  context: Context,
  engines: BenchEngine[],
): Promise<BackupBenchResult[]> {
  const results: BackupBenchResult[] = [];
  const folder = mkdtempSync(join(tmpdir(), 'dbaas-bench-backups-'));
  try {
    for (const engine of engines) results.push(await benchEngine(context, engine, folder));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  return results;
}

async function benchEngine(
  context: Context,
  engine: BenchEngine,
  folder: string,
): Promise<BackupBenchResult> {
  const { log } = context;
  const api = apiCalls(context);
  const name = `bench_backup_${engine.type}`;
  const created = await api.send<{ id: number; credentials: { id: number }[] }>(
    'POST',
    '/api/database/',
    { name, plan: engine.plan, environment: 1 },
  );
  const credential = await api.send<{ user: string; password: string }>(
    'GET',
    `/api/credential/${created.credentials[0].id}/`,
  );
  log(`backups: ${engine.label}: filling ${name}...`);
  const data = await fill(engine, name, credential);
  const file = join(folder, `${name}.dump`);
  const direct = { dump: [] as number[], restore: [] as number[] };
  const viaApi = { backup: [] as number[], restore: [] as number[] };
  const apiCpu = { backup: [] as number[], restore: [] as number[] };
  const memory = new MemorySampler(context.apiPid);
  const idleRssMb = memory.currentMb();
  memory.resetPeak();
  memory.start();
  let storedMb = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    log(`backups: ${engine.label} (${data}), round ${round}/${ROUNDS}`);
    direct.dump.push(await timed(() => directDump(engine, name, file)));
    direct.restore.push(await timed(() => directRestore(engine, name, file)));
    let cpuBefore = cpuSecondsOf(context.apiPid);
    let backupId = 0;
    const backupPost = await timed(async () => {
      backupId = (await api.send<{ id: number }>('POST', `/api/database/${created.id}/backup/`)).id;
    });
    const backup = await api.until<Timed & { status: string; size_in_bytes: number }>(
      `/api/backup/${backupId}/`,
      ['running'],
    );
    if (backup.status !== 'ready') throw new Error(`backup ${backupId} is ${backup.status}`);
    storedMb = backup.size_in_bytes / 1024 / 1024;
    viaApi.backup.push(backupPost + recorded(backup.created_at, backup.finished_at));
    apiCpu.backup.push(cpuSecondsOf(context.apiPid) - cpuBefore);
    cpuBefore = cpuSecondsOf(context.apiPid);
    let taskId = 0;
    const restorePost = await timed(async () => {
      taskId = (await api.send<{ id: number }>('POST', `/api/backup/${backupId}/restore/`)).id;
    });
    const task = await api.until<Timed & { status: string; error: string | null }>(
      `/api/task/${taskId}/`,
      ['waiting', 'running'],
    );
    if (task.status !== 'success') throw new Error(`restore failed: ${task.error}`);
    viaApi.restore.push(restorePost + recorded(task.created_at, task.ended_at));
    apiCpu.restore.push(cpuSecondsOf(context.apiPid) - cpuBefore);
    await api.send('DELETE', `/api/backup/${backupId}/`);
  }
  const peakRssMb = memory.stop();
  const directMb = statSync(file).size / 1024 / 1024;
  await api.send('DELETE', `/api/database/${created.id}/`);
  await api.send('DELETE', `/api/database/${created.id}/?skip_backup=true`);
  return {
    engine: engine.label,
    data,
    direct: { dump: median(direct.dump), restore: median(direct.restore) },
    api: { backup: median(viaApi.backup), restore: median(viaApi.restore) },
    apiCpu: { backup: round(median(apiCpu.backup)), restore: round(median(apiCpu.restore)) },
    storedMb: round(storedMb),
    directMb: round(directMb),
    idleRssMb,
    peakRssMb,
  };
}

/** A backup's or a task's own timestamps (`finished_at` for a backup, `ended_at` for a task). */
interface Timed {
  created_at: string;
  finished_at?: string | null;
  ended_at?: string | null;
}

/** Seconds between two timestamps the API recorded. */
function recorded(from: string, to: string | null | undefined): number {
  if (!to) throw new Error(`no end recorded after ${from}`);
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function apiCalls({ stack, authorization }: Context) {
  const base = stack.api.baseUrl;
  const send = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(base + path, {
      method,
      headers: { authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  /** Polls until the status leaves `pending`. */
  const until = async <T extends { status: string }>(path: string, pending: string[]) => {
    for (;;) {
      const current = await send<T>('GET', path);
      if (!pending.includes(current.status)) return current;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  return { send, until };
}

// ---- data -----------------------------------------------------------------------------

/** Four distinct MD5s a row: 128 bytes of text that compresses like real text, not zeros. */
async function fill(
  engine: BenchEngine,
  database: string,
  login: { user: string; password: string },
): Promise<string> {
  const { host, port } = engine.server;
  if (engine.type === 'postgresql') {
    const client = new Client({ host, port, database, user: login.user, password: login.password });
    await client.connect();
    try {
      const rows = Math.round((PG_MB * 1024 * 1024) / 190);
      await client.query('CREATE TABLE bench (id bigint PRIMARY KEY, payload text NOT NULL)');
      await client.query(
        `INSERT INTO bench SELECT g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 17)::text)
           FROM generate_series(1, $1) g`,
        [rows],
      );
      const { rows: size } = await client.query<{ mb: string }>(
        'SELECT pg_database_size(current_database()) / 1048576 AS mb',
      );
      return `${size[0].mb} MB`;
    } finally {
      await client.end();
    }
  }
  if (engine.type === 'mysql') {
    const connection = await createConnection({
      host,
      port,
      database,
      user: login.user,
      password: login.password,
    });
    try {
      const rows = Math.round((MARIADB_MB * 1024 * 1024) / 190);
      await connection.query(
        'CREATE TABLE bench (id int PRIMARY KEY, payload varchar(200) NOT NULL) ENGINE=InnoDB',
      );
      // In chunks: one huge INSERT ... SELECT holds a long transaction.
      for (let from = 1; from <= rows; from += 100_000) {
        const to = Math.min(rows, from + 99_999);
        await connection.query(
          `INSERT INTO bench SELECT seq, CONCAT(md5(seq), md5(seq * 7), md5(seq * 13), md5(seq * 17))
             FROM seq_${from}_to_${to}`,
        );
      }
      await connection.query('ANALYZE TABLE bench');
      const [size] = await connection.query(
        `SELECT ROUND(SUM(data_length + index_length) / 1048576) AS mb
           FROM information_schema.tables WHERE table_schema = ?`,
        [database],
      );
      return `${(size as { mb: string }[])[0].mb} MB`;
    } finally {
      await connection.end();
    }
  }
  const redis = new Redis({
    host,
    port,
    username: login.user,
    password: login.password,
    lazyConnect: true,
  });
  await redis.connect();
  try {
    for (let from = 0; from < REDIS_KEYS; from += 10_000) {
      const batch = redis.pipeline();
      for (let i = from; i < Math.min(REDIS_KEYS, from + 10_000); i++) {
        const key = `${database}:k${i}`;
        batch.set(key, `${i}:${'v'.repeat(64)}:${(i * 7919) % 100_003}`);
        if (i % 10 === 0) batch.pexpire(key, 86_400_000);
      }
      await batch.exec();
    }
    return `${REDIS_KEYS} keys`;
  } finally {
    redis.disconnect();
  }
}

// ---- the tools, run directly ---------------------------------------------------------

async function postgresBin(server: EngineServer): Promise<string> {
  const client = new Client({
    host: server.host,
    port: server.port,
    user: server.adminUser,
    password: server.adminPassword,
    database: 'postgres',
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>(
      "SELECT current_setting('server_version_num') AS v",
    );
    return `/usr/lib/postgresql/${Math.floor(Number(rows[0].v) / 10_000)}/bin`;
  } finally {
    await client.end();
  }
}

/** Runs a command with stdin/stdout from/to files; rejects on a non-zero exit. */
function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  io: { stdin?: string; stdout?: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const out = io.stdout
      ? pipeline(child.stdout, createWriteStream(io.stdout))
      : (child.stdout.resume(), Promise.resolve());
    const input = io.stdin ? pipeline(createReadStream(io.stdin), child.stdin) : child.stdin.end();
    child.on('error', reject);
    const closed = new Promise<number | null>((done) => child.on('close', done));
    Promise.all([closed, out, input]).then(([code]) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited ${code}: ${stderr}`));
    }, reject);
  });
}

async function directDump(engine: BenchEngine, database: string, file: string): Promise<void> {
  const { server } = engine;
  if (engine.type === 'postgresql') {
    const bin = await postgresBin(server);
    await run(join(bin, 'pg_dump'), ['--format=custom', '--no-password'], pgEnv(server, database), {
      stdout: file,
    });
    return;
  }
  if (engine.type === 'mysql') {
    await run(
      'mariadb-dump',
      [
        `--host=${server.host}`,
        `--port=${server.port}`,
        `--user=${server.adminUser}`,
        '--single-transaction',
        '--routines',
        '--triggers',
        '--events',
        '--hex-blob',
        database,
      ],
      { MYSQL_PWD: server.adminPassword },
      { stdout: file },
    );
    return;
  }
  await engine.provider.dumpTool.dump(engine.target, database, createWriteStream(file));
}

async function directRestore(engine: BenchEngine, database: string, file: string): Promise<void> {
  const { server } = engine;
  if (engine.type === 'postgresql') {
    const bin = await postgresBin(server);
    await run(
      join(bin, 'pg_restore'),
      [
        '--no-password',
        '--single-transaction',
        '--exit-on-error',
        '--clean',
        '--if-exists',
        `--dbname=${database}`,
      ],
      pgEnv(server, database),
      { stdin: file },
    );
    return;
  }
  if (engine.type === 'mysql') {
    await run(
      'mariadb',
      [`--host=${server.host}`, `--port=${server.port}`, `--user=${server.adminUser}`, database],
      { MYSQL_PWD: server.adminPassword },
      { stdin: file },
    );
    return;
  }
  await engine.provider.dumpTool.restore(engine.target, database, createReadStream(file));
}

function pgEnv(server: EngineServer, database: string): Record<string, string> {
  return {
    PGHOST: server.host,
    PGPORT: String(server.port),
    PGUSER: server.adminUser,
    PGPASSWORD: server.adminPassword,
    PGDATABASE: database,
  };
}

// ---- alone: `npx tsx bench/backups.ts` (after `npm run build`) ------------------------

async function alone(): Promise<void> {
  const { startStack } = await import('../test/e2e/support/test-stack');
  const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
  const logLevel = process.env.BENCH_BACKUP_LOGS ? 'log' : 'warn';
  const stack = await startStack({ engines: true, env: { LOG_LEVEL: logLevel } });
  try {
    const apiPid = (stack.api as unknown as { child: { pid: number } }).child.pid;
    const authorization = `Basic ${Buffer.from('admin:123456').toString('base64')}`;
    const only = process.env.BENCH_BACKUP_ENGINES?.split(',');
    const engines = (await benchEngines(stack)).filter(
      (engine) => !only || only.includes(engine.type),
    );
    const results = await backupScenario({ stack, apiPid, authorization, log }, engines);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    // BENCH_BACKUP_LOGS=1: the API's own timings (its log lines of each backup and restore).
    if (process.env.BENCH_BACKUP_LOGS)
      for (const line of stack.api.logs.split('\n').filter((l) => /Backup \d+/.test(l))) log(line);
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  alone().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
