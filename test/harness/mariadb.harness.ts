import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RowDataPacket, createConnection } from 'mysql2/promise';
import { EngineServer } from './engine-server';
import { freePort } from './free-port';
import {
  killQuietly,
  makeTempDir,
  registerCleanup,
  removeDir,
  requireBinary,
  run,
  sleep,
  waitForExit,
} from './process-utils';

/**
 * Starts a MariaDB server in a temp folder on a free port. mariadb-install-db leaves
 * password-less root accounts (some reachable over TCP): they are removed or given a
 * password, and the returned admin is `admin`@`%`, a password login over TCP.
 */
export async function startMariaDb(): Promise<EngineServer> {
  const installDb = requireBinary('/usr/bin/mariadb-install-db', 'mariadb-server');
  const mariadbd = requireBinary('/usr/sbin/mariadbd', 'mariadb-server');
  const dir = makeTempDir('mariadb');
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mariadb.sock');
  const errorLog = join(dir, 'error.log');
  // Its own temp folder: concurrent servers sharing /tmp lost each other's temporary tables.
  const tmpDir = join(dir, 'tmp');
  mkdirSync(tmpDir);
  const host = '127.0.0.1';
  const adminUser = 'admin';
  const adminPassword = randomBytes(18).toString('hex');
  let child: ChildProcess | null = null;

  const unregister = registerCleanup(() => {
    if (child?.pid) killQuietly(child.pid, 'SIGKILL');
    removeDir(dir);
  });
  const fail = (error: unknown): never => {
    if (child?.pid) killQuietly(child.pid, 'SIGKILL');
    unregister();
    removeDir(dir);
    throw new Error(`${(error as Error).message}\n${safeRead(errorLog)}`);
  };

  await run(installDb, [
    '--no-defaults',
    '--user=root',
    `--datadir=${dataDir}`,
    `--tmpdir=${tmpDir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
  ]).catch(fail);
  let port = 0;

  const start = async () => {
    const proc = spawn(
      mariadbd,
      [
        '--no-defaults',
        '--user=root',
        `--datadir=${dataDir}`,
        `--tmpdir=${tmpDir}`,
        `--port=${port}`,
        `--socket=${socket}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        `--pid-file=${join(dir, 'mariadb.pid')}`,
        `--log-error=${errorLog}`,
        // Small and without fsync: fast, yet commits survive a kill of the process (not of the machine).
        '--innodb-buffer-pool-size=16M',
        '--innodb-log-file-size=8M',
        '--innodb-flush-log-at-trx-commit=2',
        '--innodb-doublewrite=0',
        '--skip-log-bin',
        '--performance-schema=OFF',
        '--max-connections=100',
      ],
      { stdio: 'ignore' },
    );
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`mariadbd exited with code ${code}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForSocketLogin(socket), exited]);
  };
  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc?.pid || proc.exitCode !== null) return;
    killQuietly(proc.pid, 'SIGKILL'); // no clean shutdown needed: InnoDB recovers on start
    await waitForExit(proc.pid);
  };

  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (error) {
      await stop();
      if (attempt >= 2) fail(error);
    }
  }

  const rootPassword = randomBytes(18).toString('hex');
  const conn = await createConnection({
    socketPath: socket,
    user: 'root',
    multipleStatements: true,
  });
  try {
    const [rows] = await conn.query<RowDataPacket[]>(
      "SELECT User AS user, Host AS host FROM mysql.user WHERE User = 'root' AND Host <> 'localhost'",
    );
    for (const row of rows) await conn.query('DROP USER ?@?', [row.user, row.host]);
    await conn.query('ALTER USER `root`@`localhost` IDENTIFIED BY ?', [rootPassword]);
    await conn.query('CREATE USER ?@? IDENTIFIED BY ?', [adminUser, '%', adminPassword]);
    await conn.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [adminUser, '%']);
  } catch (error) {
    fail(error);
  } finally {
    await conn.end().catch(() => undefined);
  }

  let destroyed = false;
  return {
    host,
    port,
    address: `${host}:${port}`,
    adminUser,
    adminPassword,
    url: `mysql://${adminUser}:${adminPassword}@${host}:${port}/`,
    stop,
    start: async () => {
      if (child) return;
      await start();
    },
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await stop();
      unregister();
      removeDir(dir);
    },
  };
}

/** Ready means a login over the socket works, not just that the socket file exists. */
async function waitForSocketLogin(socket: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // Before the password is set, root logs in without one; after a restart, with any.
      const conn = await createConnection({
        socketPath: socket,
        user: 'nobody',
        connectTimeout: 1000,
      });
      await conn.end();
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      // Access denied means the server answers: it is ready.
      if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR')
        return;
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
