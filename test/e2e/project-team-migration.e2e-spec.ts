import { MIGRATIONS } from '@dbaas/persistence';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { EngineServer, startPostgres } from '../harness';

const AT = MIGRATIONS.findIndex((m) => m.name === 'ProjectTeam1764748800000');
const BEFORE = MIGRATIONS.slice(0, AT);
/** Up to this migration only, so that undoing the last one undoes it whatever comes later. */
const THROUGH = MIGRATIONS.slice(0, AT + 1);

let pg: EngineServer;

/** A fresh store on the test server, migrated up to just before the project-team migration. */
async function storeBefore(): Promise<DataSource> {
  const name = `mig_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const store = new DataSource({
    type: 'postgres',
    url: pg.url.replace(/\/postgres$/, `/${name}`),
    migrations: BEFORE,
  });
  await store.initialize();
  await store.runMigrations();
  return store;
}

/** The same store reopened with the project-team migration, run. */
async function migrate(before: DataSource): Promise<DataSource> {
  await before.destroy();
  const store = new DataSource({ ...before.options, migrations: THROUGH } as DataSourceOptions);
  await store.initialize();
  await store.runMigrations();
  return store;
}

/** A catalog row set just big enough to file databases: ids 1. */
async function catalog(store: DataSource): Promise<void> {
  await store.query(`
    INSERT INTO engine_type (name) VALUES ('postgresql');
    INSERT INTO engine (engine_type_id, version) VALUES (1, '15');
    INSERT INTO environment (name) VALUES ('dev');
    INSERT INTO plan (name, engine_id) VALUES ('small', 1);
    INSERT INTO infra (name, engine_id, plan_id, environment_id, addresses, admin_user, admin_password_encrypted, capacity)
      VALUES ('pg', 1, 1, 1, '[]', 'postgres', 'x', 10);
  `);
}

async function fileDatabase(store: DataSource, name: string, team: number, project: number | null) {
  await store.query(
    `INSERT INTO database (name, plan_id, environment_id, infra_id, project_id, team_id, status)
     VALUES ($1, 1, 1, 1, $2, $3, 'ready')`,
    [name, project, team],
  );
}

/** The migration that gives projects a team, on a real PostgreSQL store. */
describe('migration ProjectTeam1764748800000 (store)', () => {
  let store: DataSource;

  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);

  afterAll(async () => {
    await pg?.destroy();
  });

  afterEach(async () => {
    await store?.destroy();
  });

  it('gives each project the team of its databases, else the lowest-id team, and re-files other teams under their own copy', async () => {
    store = await storeBefore();
    await catalog(store);
    await store.query(`
      INSERT INTO team (name) VALUES ('dbaas'), ('team1'), ('team2');
      INSERT INTO project (name, description) VALUES ('billing', 'money'), ('empty', ''), ('shared', 'both');
    `);
    await fileDatabase(store, 'invoices', 2, 1);
    await fileDatabase(store, 'a', 3, 3);
    await fileDatabase(store, 'b', 2, 3);
    await fileDatabase(store, 'loose', 1, null);

    store = await migrate(store);

    expect(
      await store.query('SELECT id, name, description, team_id FROM project ORDER BY id'),
    ).toEqual([
      { id: 1, name: 'billing', description: 'money', team_id: 2 },
      { id: 2, name: 'empty', description: '', team_id: 1 },
      { id: 3, name: 'shared', description: 'both', team_id: 2 },
      { id: 4, name: 'shared', description: 'both', team_id: 3 },
    ]);
    expect(
      await store.query('SELECT name, project_id, team_id FROM database ORDER BY name'),
    ).toEqual([
      { name: 'a', project_id: 4, team_id: 3 },
      { name: 'b', project_id: 3, team_id: 2 },
      { name: 'invoices', project_id: 1, team_id: 2 },
      { name: 'loose', project_id: null, team_id: 1 },
    ]);
  });

  it('makes a team `default` for projects when there is no team at all', async () => {
    store = await storeBefore();
    await store.query(`INSERT INTO project (name) VALUES ('orphan')`);

    store = await migrate(store);

    expect(
      await store.query(
        'SELECT p.name, t.name AS team FROM project p JOIN team t ON t.id = p.team_id',
      ),
    ).toEqual([{ name: 'orphan', team: 'default' }]);
  });

  it("then keeps names unique per team, and refuses a database filed under another team's project", async () => {
    store = await storeBefore();
    await catalog(store);
    await store.query(`INSERT INTO team (name) VALUES ('dbaas'), ('team1')`);
    store = await migrate(store);

    await store.query(`INSERT INTO project (name, team_id) VALUES ('same', 1), ('same', 2)`);
    await expect(
      store.query(`INSERT INTO project (name, team_id) VALUES ('same', 1)`),
    ).rejects.toMatchObject({
      driverError: { code: '23505' },
    });
    await expect(fileDatabase(store, 'foreign', 2, 1)).rejects.toMatchObject({
      driverError: { code: '23503' },
    });
    const [moving] = await store.query(
      `INSERT INTO project (name, team_id) VALUES ('moving', 2) RETURNING id`,
    );
    await fileDatabase(store, 'own', 2, moving.id);
    // A project holding databases cannot move to another team behind their back.
    await expect(
      store.query('UPDATE project SET team_id = 1 WHERE id = $1', [moving.id]),
    ).rejects.toMatchObject({
      driverError: { code: '23503' },
    });
  });

  it('goes down again, keeping every project under a unique name', async () => {
    store = await storeBefore();
    await catalog(store);
    await store.query(`INSERT INTO team (name) VALUES ('dbaas'), ('team1')`);
    store = await migrate(store);
    await store.query(`INSERT INTO project (name, team_id) VALUES ('same', 1), ('same', 2)`);

    await store.undoLastMigration();

    expect(await store.query('SELECT id, name FROM project ORDER BY id')).toEqual([
      { id: 1, name: 'same' },
      { id: 2, name: 'same-2' },
    ]);
  });
});
