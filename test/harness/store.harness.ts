import { AppConfig } from '@dbaas/core';
import { dataSourceOptions } from '@dbaas/persistence';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { EngineServer } from './engine-server';
import { startPostgres } from './postgres.harness';

/**
 * The app's metadata store for a medium test: a throwaway PostgreSQL (startPostgres) with
 * the app's migrations applied, opened with the app's own DataSource options. `open()`
 * gives another DataSource on it (another pool: what a second API process would have).
 */
export interface TestStore {
  server: EngineServer;
  /** The first DataSource, migrated. */
  store: DataSource;
  open(): Promise<DataSource>;
  /** Empties every table of the app (ids start at 1 again). */
  clear(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startStore(): Promise<TestStore> {
  const server = await startPostgres();
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('CREATE DATABASE dbaas');
  await admin.end();
  const databaseUrl = server.url.replace(/\/postgres$/, '/dbaas');
  const opened: DataSource[] = [];
  const open = async () => {
    const source = new DataSource(dataSourceOptions({ databaseUrl } as AppConfig));
    await source.initialize();
    opened.push(source);
    return source;
  };
  try {
    const store = await open();
    await store.runMigrations();
    return {
      server,
      store,
      open,
      clear: async () => {
        const tables = (await store.query(
          `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
        )) as { tablename: string }[];
        await store.query(
          `TRUNCATE ${tables.map((t) => `"${t.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`,
        );
      },
      destroy: async () => {
        for (const source of opened) if (source.isInitialized) await source.destroy();
        await server.destroy();
      },
    };
  } catch (error) {
    for (const source of opened) if (source.isInitialized) await source.destroy();
    await server.destroy();
    throw error;
  }
}

/**
 * The smallest catalog that databases can be filed in, all ids 1 (infra 2 is a second
 * infra of the same plan): engine type `mysql`, engine, environment `dev`, plan `small`
 * offered there, infra `db1` (capacity 10), team `team-a` (id 1) and `team-b` (id 2),
 * users `admin` (dba, id 1) and `dev` (regular, id 2, in team 1), project `shop` of team 1.
 */
export async function seedCatalog(store: DataSource): Promise<void> {
  await store.query(`
    INSERT INTO engine_type (name) VALUES ('mysql');
    INSERT INTO engine (engine_type_id, version) VALUES (1, '10.11');
    INSERT INTO environment (name) VALUES ('dev');
    INSERT INTO plan (name, engine_id, size_limit_in_bytes) VALUES ('small', 1, 1048576);
    INSERT INTO plan_environment (plan_id, environment_id) VALUES (1, 1);
    INSERT INTO infra (name, engine_id, environment_id, addresses, admin_user, admin_password_encrypted, capacity)
      VALUES ('db1', 1, 1, '["db1:3306"]', 'root', 'x', 10),
             ('db2', 1, 1, '["db2:3306"]', 'root', 'x', 10);
    INSERT INTO infra_plan (infra_id, plan_id) VALUES (1, 1), (2, 1);
    INSERT INTO team (name) VALUES ('team-a'), ('team-b');
    INSERT INTO "user" (username, role, password_hash) VALUES ('admin', 'dba', 'x'), ('dev', 'regular', 'x');
    INSERT INTO team_user (team_id, user_id) VALUES (1, 2);
    INSERT INTO project (name, team_id) VALUES ('shop', 1);
  `);
}
