import { AppConfig } from '@dbaas/core';
import { dataSourceOptions } from '@dbaas/persistence';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { startPostgres } from './postgres.harness';
import { SHARED_STORE_SERVER_ENV } from './shared-store-env';

/**
 * The app's metadata store for a medium test: a throwaway PostgreSQL (startPostgres) with
 * the app's migrations applied, opened with the app's own DataSource options. `open()`
 * gives another DataSource on it (another pool: what a second API process would have).
 * With DBAAS_TEST_STORE_SERVER set (see shared-store-env.ts), a new database on that
 * server instead, dropped by `destroy()`.
 */
export interface TestStore {
  /** The first DataSource, migrated. */
  store: DataSource;
  open(): Promise<DataSource>;
  /** Empties every table of the app (ids start at 1 again). */
  clear(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A `pg_locks` condition for the locks of the current database only: on a shared server
 * the other stores' sessions hold advisory locks too.
 */
export const THIS_DATABASE = `database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

export async function startStore(): Promise<TestStore> {
  const shared = process.env[SHARED_STORE_SERVER_ENV];
  const place = shared ? await databaseOn(shared) : await serverOfItsOwn();
  const opened: DataSource[] = [];
  const open = async () => {
    const source = new DataSource(
      dataSourceOptions({ databaseUrl: place.databaseUrl } as AppConfig),
    );
    await source.initialize();
    opened.push(source);
    return source;
  };
  const closeAll = async () => {
    for (const source of opened) if (source.isInitialized) await source.destroy();
    await place.remove();
  };
  try {
    const store = await open();
    await store.runMigrations();
    return {
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
      destroy: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

interface StorePlace {
  databaseUrl: string;
  /** Removes what was made for the store (its server, or its database on a shared one). */
  remove(): Promise<void>;
}

/** A throwaway server of the store's own, with a `dbaas` database. */
async function serverOfItsOwn(): Promise<StorePlace> {
  const server = await startPostgres();
  try {
    await adminQuery(server.url, 'CREATE DATABASE dbaas');
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return {
    databaseUrl: server.url.replace(/\/postgres$/, '/dbaas'),
    remove: () => server.destroy(),
  };
}

/** A new database with a random name on a running server, dropped by `remove`. */
async function databaseOn(serverUrl: string): Promise<StorePlace> {
  const name = `dbaas_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const databaseUrl = new URL(serverUrl);
  databaseUrl.pathname = `/${name}`;
  return {
    databaseUrl: databaseUrl.toString(),
    remove: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
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
