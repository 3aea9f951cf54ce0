import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess, API_MAIN, runNode } from './support/api-process';
import { expectProblem, HttpClient } from './support/http-client';
import { CLOSED_ADDRESS } from './support/test-stack';

/** The quick start: no DATABASE_URL, the embedded PostgreSQL store, sample data on first start. */
describe('embedded store (smoke)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dbaas-embedded-'));
  // No engine answers here: the sample databases are skipped, the catalog is still seeded.
  const env = {
    DBAAS_DATA_DIR: dataDir,
    DBAAS_SAMPLE_POSTGRESQL_URL: `postgresql://postgres@${CLOSED_ADDRESS}`,
    DBAAS_SAMPLE_MYSQL_URL: `mysql://root@${CLOSED_ADDRESS}`,
    DBAAS_SAMPLE_REDIS_URL: `redis://default@${CLOSED_ADDRESS}`,
    DBAAS_SAMPLE_MONGODB_URL: `mongodb://admin@${CLOSED_ADDRESS}`,
  };
  let api: ApiProcess;

  beforeAll(async () => {
    api = await ApiProcess.start(env);
  }, 90_000);

  afterAll(async () => {
    await api?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says which store it uses before it serves', () => {
    const lines = api.logs.split('\n');
    const store = lines.findIndex((line) =>
      line.includes(
        `Metadata store: embedded PostgreSQL store in ${join(dataDir, 'postgres')} (127.0.0.1:`,
      ),
    );
    expect(store).toBeGreaterThanOrEqual(0);
    expect(store).toBeLessThan(lines.findIndex((line) => line.includes('Listening on')));
  });

  it('seeds the sample catalog on first start and serves it', async () => {
    const http = new HttpClient(api.baseUrl);
    const plans = await http.get('/api/plan/');
    expect(plans.status).toBe(200);
    expect(plans.body.plan[0]).toMatchObject({ id: 1, name: 'postgresql-small' });
    expect((await http.get('/api/environment/1/')).body.name).toBe('dev');
    expect((await http.as('user:123456').get('/api/plan/')).status).toBe(200);
    // The seed's database URL answers 404, never 500, when no engine could take the sample databases.
    expectProblem(await http.get('/api/database/1/'), 404);
  });

  it('generated its secret key into the data folder, readable by the owner only', () => {
    const mode = statSync(join(dataDir, 'secret.key')).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('keeps its data across a restart, without seeding again', async () => {
    const http = new HttpClient(api.baseUrl);
    const created = await http.post('/api/project/', { name: 'survives-restart' });
    expect(created.status).toBe(201);
    await api.stop();
    api = await ApiProcess.start(env);
    const again = new HttpClient(api.baseUrl);
    expect((await again.get(new URL(created.body._links.self).pathname)).body.name).toBe(
      'survives-restart',
    );
    expect((await again.get('/api/user/')).body._links.count).toBe(2);
  }, 60_000);
});

describe('configuration errors stop the boot with one line naming the variable', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ QUARANTINE_RETENTION_DAYS: '-3' }, 'QUARANTINE_RETENTION_DAYS'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgresql://u:p@127.0.0.1:1/x' }, 'DBAAS_SECRET_KEY'],
    [
      { DATABASE_URL: 'postgresql://u:p@127.0.0.1:1/x', DBAAS_SECRET_KEY: 'short' },
      'DBAAS_SECRET_KEY',
    ],
    [{ DBAAS_SAMPLE_DATA: 'maybe' }, 'DBAAS_SAMPLE_DATA'],
  ])('%j', async (vars, variable) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbaas-config-'));
    try {
      const result = await runNode(API_MAIN, [], { DBAAS_DATA_DIR: dataDir, ...vars }, 30_000);
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(variable);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('embedded store: a start that fails after the store server was spawned', () => {
  it('stops the embedded PostgreSQL server and exits 1 with a one-line error', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbaas-failed-start-'));
    // The port is taken: the API fails once its store is up and its app made, at listen.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const serverPidFile = join(dataDir, 'postgres', 'postmaster.pid');
    try {
      const result = await runNode(
        API_MAIN,
        [],
        {
          DBAAS_DATA_DIR: dataDir,
          HOST: '127.0.0.1',
          PORT: String(port),
          DBAAS_SAMPLE_DATA: 'false',
        },
        60_000,
      );

      // The store was up (it made the app), and its server is gone with the API: a clean
      // PostgreSQL shutdown removes its postmaster.pid.
      expect(result.stdout).toContain('Metadata store: embedded PostgreSQL store');
      expect(existsSync(serverPidFile)).toBe(false);
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toEqual([expect.stringMatching(/^dbaas: .*EADDRINUSE/)]);
    } finally {
      taken.close();
      // Should the server have survived (the bug), it must not outlive the test.
      if (existsSync(serverPidFile)) {
        const pid = Number(readFileSync(serverPidFile, 'utf8').split('\n')[0]);
        try {
          process.kill(pid, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
