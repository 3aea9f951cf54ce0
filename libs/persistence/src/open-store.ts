import { AppConfig, makePrivateDir, makeTreePrivate } from '@dbaas/core';
import { chmodSync, chownSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { EmbeddedPostgres, SERVER_DIR } from './embedded/embedded-postgres';
import { StoreLog } from './embedded/store-log';
import { hasPgliteStore, importPgliteStore } from './embedded/pglite-import';
import { ServerUser, serverUser } from './embedded/server-user';
import { StoreOwner } from './embedded/store-owner';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** The metadata store, ready to connect to. */
export interface OpenStore {
  /** The configuration with `databaseUrl` set: the embedded server's when there is one. */
  config: AppConfig;
  /** Which store is in use, for the first log line. */
  description: string;
  /** Stops the embedded server and gives up its ownership (nothing for an external store). */
  close(): Promise<void>;
}

/** A store whose embedded server (if any) has been started, not yet waited for. */
export interface StartingStore {
  /** Waits until the store answers (importing a PGlite store on the way): then it is open. */
  ready(): Promise<OpenStore>;
  /**
   * Gives up before (or instead of) `ready()`: stops the embedded server and gives up the
   * data folder (nothing for an external store). Stopping twice is stopping once.
   */
  stop(): Promise<void>;
}

/**
 * With DATABASE_URL, that PostgreSQL. Without, the embedded PostgreSQL in DBAAS_DATA_DIR,
 * owned by this process (`owner` names it for a second process, which is refused) until
 * `close()`. A PGlite store left by an earlier version is imported into it once.
 * What it does on the way goes to `logger`; `onLost` is called if the embedded server
 * stops on its own.
 */
export async function openStore(
  config: AppConfig,
  owner: string,
  logger: StoreLog,
  onLost: (message: string) => void,
): Promise<OpenStore> {
  return (await startStore(config, owner, logger, onLost)).ready();
}

/**
 * `openStore` in two steps, for a process with other work to do while the embedded server
 * starts (the API loads its modules meanwhile): this one takes the data folder and starts
 * the server process; `ready()` waits for it. Should `ready()` fail, the server is stopped
 * and the data folder given up; a caller failing before it calls `stop()`.
 */
export async function startStore(
  config: AppConfig,
  owner: string,
  logger: StoreLog,
  onLost: (message: string) => void,
): Promise<StartingStore> {
  if (config.databaseUrl) {
    const url = new URL(config.databaseUrl);
    const store: OpenStore = {
      config,
      description: `PostgreSQL store at ${url.hostname}:${url.port || 5432}${url.pathname}`,
      close: async () => undefined,
    };
    return { ready: async () => store, stop: async () => undefined };
  }
  makePrivateDir(config.dataDir);
  const ownership = StoreOwner.take(config.dataDir, owner);
  let server: EmbeddedPostgres;
  try {
    const user = serverUser();
    closeDataDir(config.dataDir, user, logger);
    server = await EmbeddedPostgres.spawn(config.dataDir, user, logger, onLost);
  } catch (error) {
    ownership.release();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= server.stop().finally(() => ownership.release());
    return stopped;
  };
  const ready = async (): Promise<OpenStore> => {
    try {
      await server.ready();
      if (hasPgliteStore(config.dataDir)) {
        await migrate(server.url);
        await importPgliteStore(config.dataDir, server.url, logger);
      }
    } catch (error) {
      await stop();
      throw error;
    }
    return {
      config: { ...config, databaseUrl: server.url },
      description: `embedded PostgreSQL store in ${join(config.dataDir, SERVER_DIR)} (127.0.0.1:${server.port})`,
      close: stop,
    };
  };
  return { ready, stop };
}

/** The schema, before rows are imported into it. */
async function migrate(url: string): Promise<void> {
  const store = new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    logging: false,
  });
  await store.initialize();
  try {
    await store.runMigrations();
  } finally {
    await store.destroy();
  }
}

/**
 * The data folder holds the store, password hashes and sealed secrets: the owner's only
 * (0700, files 0600). When the server runs as another user (the API runs as root), that
 * user's group may also enter the folder (0710) to reach its own server folder, and nothing
 * more. What an older version (or a copy) left open is closed, with one log line.
 */
function closeDataDir(dataDir: string, user: ServerUser | undefined, logger: StoreLog): void {
  const wanted = user ? 0o710 : 0o700;
  const stat = statSync(dataDir);
  let fixed = (stat.mode & 0o777 & ~wanted) !== 0 ? 1 : 0;
  if ((stat.mode & 0o777) !== wanted || (user && stat.gid !== user.gid)) {
    if (user) chownSync(dataDir, stat.uid, user.gid);
    chmodSync(dataDir, wanted);
  }
  for (const name of readdirSync(dataDir)) fixed += makeTreePrivate(join(dataDir, name));
  if (fixed) {
    logger.log(
      `Fixed the mode of ${fixed} entries in ${dataDir}: others could read them (folders are now 0700, files 0600)`,
    );
  }
}
