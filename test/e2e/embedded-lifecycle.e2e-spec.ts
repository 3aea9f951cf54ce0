import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EngineServer, startPostgres } from '../harness';
import { ApiProcess } from './support/api-process';
import { HttpClient } from './support/http-client';
import { CLOSED_ADDRESS } from './support/test-stack';

/**
 * The quick start's store (the embedded PostgreSQL, no DATABASE_URL) with a real
 * PostgreSQL engine: the hand-written SQL of the hot paths, the lifecycle states and the
 * placement lock run on the API's own server as they do on an external store.
 */
describe('embedded store with a real engine (e2e)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dbaas-embedded-engine-'));
  let engine: EngineServer;
  let api: ApiProcess;
  let http: HttpClient;

  beforeAll(async () => {
    engine = await startPostgres();
    api = await ApiProcess.start({
      DBAAS_DATA_DIR: dataDir,
      DBAAS_SAMPLE_POSTGRESQL_URL: `postgresql://${engine.adminUser}:${engine.adminPassword}@${engine.address}`,
      DBAAS_SAMPLE_MYSQL_URL: `mysql://root@${CLOSED_ADDRESS}`,
      DBAAS_SAMPLE_REDIS_URL: `redis://default@${CLOSED_ADDRESS}`,
      DBAAS_SAMPLE_MONGODB_URL: `mongodb://admin@${CLOSED_ADDRESS}`,
    });
    http = new HttpClient(api.baseUrl);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await engine?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const login = async (database: string, user: string, password: string) => {
    const client = new Client({ host: engine.host, port: engine.port, database, user, password });
    await client.connect();
    return client;
  };

  it('creates a database that the credential logs in to, and shows it with its credential', async () => {
    const created = await http.post('/api/database/', {
      name: 'embedded_one',
      plan: 1,
      environment: 1,
    });
    expect(created.status).toBe(201);
    const detail = await http.get(new URL(created.body._links.self).pathname);
    expect(detail.status).toBe(200);
    expect(detail.body.credentials).toHaveLength(1);
    const credential = await http.get(new URL(detail.body.credentials[0]._links.self).pathname);
    expect(credential.body.user).toBe('u_embedded_one');
    const session = await login('embedded_one', 'u_embedded_one', credential.body.password);
    await session.end();
  });

  it('resets a password, quarantines and deletes, each step on the engine', async () => {
    const created = await http.post('/api/database/', {
      name: 'embedded_two',
      plan: 1,
      environment: 1,
    });
    const databasePath = new URL(created.body._links.self).pathname;
    const credentialPath = new URL(created.body.credentials[0]._links.self).pathname;
    const reset = await http.post(`${credentialPath}reset_password/`);
    expect(reset.status).toBe(200);
    await (await login('embedded_two', 'u_embedded_two', reset.body.password)).end();

    expect((await http.delete(databasePath)).status).toBe(204);
    await expect(login('embedded_two', 'u_embedded_two', reset.body.password)).rejects.toThrow();
    expect((await http.get(databasePath)).body.status).toBe('quarantined');
    expect((await http.delete(databasePath)).status).toBe(204);
    expect((await http.get(databasePath)).status).toBe(404);
    const admin = new Client({ connectionString: engine.url });
    await admin.connect();
    const left = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'embedded_two'");
    await admin.end();
    expect(left.rows).toEqual([]);
  });

  it('fills an infra to its capacity and no further, however many creates race', async () => {
    const infra = await http.get('/api/infra/1/');
    expect(infra.status).toBe(200);
    const placed = infra.body.databases.placed as number;
    expect((await http.patch('/api/infra/1/', { capacity: placed + 1 })).status).toBe(200);
    const answers = await Promise.all(
      ['race_a', 'race_b', 'race_c'].map((name) =>
        http.post('/api/database/', { name, plan: 1, environment: 1 }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 503, 503]);
    expect((await http.get('/api/infra/1/')).body.databases).toMatchObject({
      placed: placed + 1,
      free: 0,
    });
  });
});
