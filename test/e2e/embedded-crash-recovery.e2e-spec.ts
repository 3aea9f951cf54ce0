import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../harness';
import { ApiProcess } from './support/api-process';
import { HttpClient } from './support/http-client';
import { CLOSED_ADDRESS } from './support/test-stack';
import { until } from './support/until';

/** A fresh embedded store (its initdb) is slow to open on a busy machine. */
const BOOT_MS = 120_000;

/**
 * The embedded store is owned by one process: at its boot, every Idempotency-Key claim
 * and task still open belongs to a process that is gone (its lease went with its server).
 */
describe('embedded store: crash recovery of keys and tasks (e2e)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dbaas-embedded-crash-'));
  let port: number;
  let api: ApiProcess | undefined;
  let silent: Server | undefined;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    port = await freePort();
  });

  afterAll(async () => {
    await api?.stop();
    for (const socket of sockets) socket.destroy();
    silent?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({
    DBAAS_DATA_DIR: dataDir,
    // Plan 1's sample infra: nothing listens there at boot (the sample databases are skipped).
    DBAAS_SAMPLE_POSTGRESQL_URL: `postgresql://postgres:x@127.0.0.1:${port}`,
    DBAAS_SAMPLE_MYSQL_URL: `mysql://root@${CLOSED_ADDRESS}`,
    DBAAS_SAMPLE_REDIS_URL: `redis://default@${CLOSED_ADDRESS}`,
    DBAAS_SAMPLE_MONGODB_URL: `mongodb://admin@${CLOSED_ADDRESS}`,
  });

  it('after a kill mid-create, the restart frees the key at once and closes the task as never created', async () => {
    api = await ApiProcess.start(env(), undefined, BOOT_MS);
    // Then an engine that accepts connections and never answers holds the create.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent!.listen(port, '127.0.0.1', resolve));
    const http = new HttpClient(api.baseUrl);
    const body = { name: 'held_create', plan: 1, environment: 1 };
    const key = { headers: { 'Idempotency-Key': 'embedded-crash-1' } };
    const pending = http.post('/api/database/', body, key).catch(() => undefined);
    const running = async () =>
      (await http.get('/api/task/?status=running&type=create_database')).body.task as {
        database_name: string;
      }[];
    await until(async () => (await running()).some((t) => t.database_name === 'held_create'));
    await api.kill();
    await pending;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent!.close(resolve));
    silent = undefined;

    api = await ApiProcess.start(env(), undefined, BOOT_MS);
    const again = new HttpClient(api.baseUrl);
    const tasks = async () =>
      (await again.get('/api/task/?type=create_database')).body.task as {
        database_name: string;
        status: string;
        error: string | null;
      }[];
    // The boot round of the reconciler closes it; before, it stayed running for ten minutes.
    await until(async () =>
      (await tasks()).some((t) => t.database_name === 'held_create' && t.status !== 'running'),
    );
    expect((await tasks()).filter((t) => t.database_name === 'held_create')).toEqual([
      expect.objectContaining({
        status: 'error',
        error: expect.stringContaining('nothing was created'),
      }),
    ]);
    // Not 409: the retry runs (and now meets the engine down: 503, which frees the key again).
    const retry = await again.post('/api/database/', body, key);
    expect(retry.status).toBe(503);
    expect(retry.headers.get('content-type')).toContain('application/problem+json');
  }, 300_000);
});
