import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../harness';
import { ApiProcess, API_MAIN, CLI_MAIN, runNode } from './support/api-process';
import { HttpClient } from './support/http-client';
import { CLOSED_ADDRESS } from './support/test-stack';
import { until } from './support/until';

/** Writes a PGlite store as an earlier version left it (see the script). */
const OLD_STORE_SCRIPT = join(__dirname, 'support', 'write-pglite-store.js');

/** A first start runs initdb: slow on a busy machine. */
const BOOT_MS = 120_000;

/** No engine answers: the sample catalog is seeded, the sample databases are skipped. */
const noEngines = {
  DBAAS_SAMPLE_POSTGRESQL_URL: `postgresql://postgres@${CLOSED_ADDRESS}`,
  DBAAS_SAMPLE_MYSQL_URL: `mysql://root@${CLOSED_ADDRESS}`,
  DBAAS_SAMPLE_REDIS_URL: `redis://default@${CLOSED_ADDRESS}`,
  DBAAS_SAMPLE_MONGODB_URL: `mongodb://admin@${CLOSED_ADDRESS}`,
};

/** postmaster.pid: pid, data folder, start time, port, socket folder, listen address, ... */
function postmaster(dataDir: string): { pid: number; port: number; listen: string } {
  const lines = readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]), listen: lines[5].trim() };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function newDataDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dbaas-${prefix}-`));
  // As root, the server's user must be able to enter the data folder's parents.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  return join(dir, 'data');
}

describe('embedded PostgreSQL store (e2e)', () => {
  const dataDir = newDataDir('embedded-pg');
  const env = { DBAAS_DATA_DIR: dataDir, ...noEngines };
  let api: ApiProcess;

  beforeAll(async () => {
    api = await ApiProcess.start(env, undefined, BOOT_MS);
  }, BOOT_MS + 10_000);

  afterAll(async () => {
    await api?.stop();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('runs a PostgreSQL server on 127.0.0.1 only, with a generated password kept 0600', async () => {
    const server = postmaster(dataDir);
    expect(server.listen).toBe('127.0.0.1');
    expect(statSync(join(dataDir, 'store.password')).mode & 0o777).toBe(0o600);
    const password = readFileSync(join(dataDir, 'store.password'), 'utf8').trim();
    expect(password).toMatch(/^[0-9a-f]{48}$/);
    expect(api.logs).not.toContain(password);

    const connect = (secret: string) =>
      new Client({
        host: '127.0.0.1',
        port: server.port,
        user: 'dbaas',
        password: secret,
        database: 'dbaas',
      });
    const wrong = connect('not-the-password');
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    const right = connect(password);
    await right.connect();
    try {
      const { rows } = await right.query('SELECT count(*)::int AS users FROM "user"');
      expect(rows[0].users).toBe(2);
    } finally {
      await right.end();
    }
  });

  it('started as root, runs the server as an unprivileged user and says so once', () => {
    if (process.getuid?.() !== 0) {
      process.stdout.write('not root: the server runs as this user; nothing to check here\n');
      return;
    }
    const status = readFileSync(`/proc/${postmaster(dataDir).pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
    expect(uid).not.toBe(0);
    expect(
      api.logs.match(/Running as root: the embedded PostgreSQL runs as user \w+/g),
    ).toHaveLength(1);
  });

  it('refuses a second API and store-level CLI commands on the same data folder, naming the owner', async () => {
    const second = await runNode(
      API_MAIN,
      [],
      { ...env, PORT: String(await freePort()), HOST: '127.0.0.1' },
      30_000,
    );
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^dbaas: the embedded store in ${dataDir} is in use by the API \\(pid ${api.pid}, since .*\\): stop it first`,
        ),
      ),
    ]);
    for (const command of [['migrate'], ['reset-data']]) {
      const cli = await runNode(CLI_MAIN, command, env, 30_000);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain(`in use by the API (pid ${api.pid}`);
    }
    // Still the only owner, still serving.
    expect((await new HttpClient(api.baseUrl).get('/api/user/')).status).toBe(200);
  });

  it(
    'when the API is killed, its server stops with it; the next start takes the store over',
    async () => {
      const http = new HttpClient(api.baseUrl);
      const created = await http.post('/api/project/', { name: 'outlives-a-kill' });
      expect(created.status).toBe(201);
      const server = postmaster(dataDir).pid;
      await api.kill();
      await until(async () => !isRunning(server), 15_000);

      api = await ApiProcess.start(env, undefined, BOOT_MS);
      const again = new HttpClient(api.baseUrl);
      expect((await again.get(new URL(created.body._links.self).pathname)).body.name).toBe(
        'outlives-a-kill',
      );
      expect(api.logs).not.toContain('in use by');
    },
    BOOT_MS,
  );

  it(
    'stops its server on SIGTERM and gives the store up',
    async () => {
      const server = postmaster(dataDir).pid;
      await api.stop();
      expect(isRunning(server)).toBe(false);
      expect(existsSync(join(dataDir, 'store.owner'))).toBe(false);
      const migrate = await runNode(CLI_MAIN, ['migrate'], env, 60_000);
      expect(migrate).toMatchObject({ code: 0, stdout: 'Migrations applied.\n' });
      api = await ApiProcess.start(env, undefined, BOOT_MS);
    },
    BOOT_MS,
  );
});

/**
 * A data folder from a version that kept its store in PGlite (DBAAS_DATA_DIR/pgdata),
 * written here with PGlite itself, at the schema of an older release (its first four
 * migrations): the first start imports it once into the embedded PostgreSQL.
 */
describe('embedded store: a PGlite store of an earlier version is imported once (e2e)', () => {
  const dataDir = newDataDir('pglite-import');
  const env = { DBAAS_DATA_DIR: dataDir, ...noEngines };
  let api: ApiProcess | undefined;

  beforeAll(async () => {
    // PGlite loads as an ES module, which Jest's sandbox cannot: written by a plain node
    // process with the built persistence library.
    const written = await runNode(OLD_STORE_SCRIPT, [join(dataDir, 'pgdata')], {}, BOOT_MS);
    expect(written).toMatchObject({ code: 0, stderr: '' });
  }, BOOT_MS);

  afterAll(async () => {
    await api?.stop();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it(
    'imports every row, brings it to the current schema and keeps the PGlite files aside',
    async () => {
      api = await ApiProcess.start(env, undefined, BOOT_MS);
      expect(api.logs).toMatch(
        /Found a PGlite store of an earlier version in .*pgdata: importing it once/,
      );
      expect(api.logs).toMatch(
        /Imported \d+ rows from the PGlite store; its files are kept in .*pgdata\.pglite-imported/,
      );
      expect(existsSync(join(dataDir, 'pgdata'))).toBe(false);
      expect(existsSync(join(dataDir, 'pgdata.pglite-imported', 'PG_VERSION'))).toBe(true);

      // Its user logs in with its old password; no sample data was added to a store with data.
      const carol = new HttpClient(api.baseUrl, 'carol:old-secret');
      const users = await carol.get('/api/user/');
      expect(users.status).toBe(200);
      expect(users.body.user.map((u: { username: string }) => u.username)).toEqual(['carol']);
      expect((await carol.get('/api/infra/1/')).body.addresses).toEqual([
        '127.0.0.1:1',
        '127.0.0.1:2',
      ]);
      // The project-team migration ran on the imported rows: the project belongs to a team.
      const project = await carol.get('/api/project/1/');
      expect(project.body).toMatchObject({ name: 'ledger', description: 'from PGlite' });
      // Sequences continue after the imported ids.
      const team = await carol.post('/api/team/', { name: 'billing' });
      expect(team.status).toBe(201);
      expect(team.body.id).toBe(3);
    },
    BOOT_MS,
  );

  it(
    'does not import again at the next start',
    async () => {
      await api!.stop();
      api = await ApiProcess.start(env, undefined, BOOT_MS);
      expect(api.logs).not.toContain('PGlite');
      const carol = new HttpClient(api.baseUrl, 'carol:old-secret');
      expect((await carol.get('/api/team/')).body._links.count).toBe(3);
    },
    BOOT_MS,
  );
});
