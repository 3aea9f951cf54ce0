import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineServer } from './engine-server';
import { freePort } from './free-port';
import {
  isAlive,
  killQuietly,
  makeTempDir,
  registerCleanup,
  removeDir,
  requireBinary,
  run,
  waitForExit,
} from './process-utils';

const PG_BIN = process.env.DBAAS_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const RUNUSER = '/usr/sbin/runuser';

/**
 * Starts a PostgreSQL cluster in a temp folder with scram-sha-256 password authentication
 * on a free port. initdb refuses to run as root, so every server command runs as the
 * `postgres` OS user, which therefore owns the folder. `maxConnections`: 60 unless given
 * (a server shared by several test processes needs more).
 */
export async function startPostgres(
  settings: { maxConnections?: number } = {},
): Promise<EngineServer> {
  const initdb = requireBinary(join(PG_BIN, 'initdb'), 'postgresql');
  const pgCtl = requireBinary(join(PG_BIN, 'pg_ctl'), 'postgresql');
  const asPostgres = (bin: string, args: string[]) =>
    run(RUNUSER, ['-u', 'postgres', '--', bin, ...args]);

  const dir = makeTempDir('pg');
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pwFile = join(dir, 'pwfile');
  const host = '127.0.0.1';
  const adminUser = 'postgres';
  const adminPassword = randomBytes(18).toString('hex');
  const { uid, gid } = postgresIds();
  chownSync(dir, uid, gid);
  writeFileSync(pwFile, adminPassword, { mode: 0o600 });
  chownSync(pwFile, uid, gid);

  const unregister = registerCleanup(() => {
    const pid = postmasterPid(dataDir);
    if (pid) killQuietly(pid, 'SIGQUIT');
    removeDir(dir);
  });

  try {
    await asPostgres(initdb, [
      '-D',
      dataDir,
      '-U',
      adminUser,
      '-A',
      'scram-sha-256',
      `--pwfile=${pwFile}`,
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
  } catch (error) {
    unregister();
    removeDir(dir);
    throw error;
  }
  let port = 0;

  const start = async () => {
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c shared_buffers=16MB',
      `-c max_connections=${settings.maxConnections ?? 60}`,
    ].join(' ');
    await asPostgres(pgCtl, [
      'start',
      '-w',
      '-t',
      '30',
      '-D',
      dataDir,
      '-l',
      logFile,
      '-o',
      options,
    ]);
  };
  const stop = async () => {
    const pid = postmasterPid(dataDir);
    if (!pid || !isAlive(pid)) return;
    // Immediate mode: a throwaway cluster needs no clean checkpoint, and it is 10x faster.
    // Commits survive it (synchronous_commit stays on; fsync=off only skips the disk flush).
    await asPostgres(pgCtl, ['stop', '-w', '-m', 'immediate', '-D', dataDir]).catch(
      () => undefined,
    );
    await waitForExit(pid);
  };

  // The free port can be taken between probing and binding: try a second one.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (error) {
      if (attempt >= 2) {
        unregister();
        removeDir(dir);
        throw new Error(`${(error as Error).message}\n${safeRead(logFile)}`);
      }
    }
  }

  let destroyed = false;
  return {
    host,
    port,
    address: `${host}:${port}`,
    adminUser,
    adminPassword,
    url: `postgresql://${adminUser}:${adminPassword}@${host}:${port}/postgres`,
    logFile,
    stop,
    start,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await stop();
      unregister();
      removeDir(dir);
    },
  };
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line)
    throw new Error(
      'OS user "postgres" not found: install it with "apt-get install -y postgresql".',
    );
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function postmasterPid(dataDir: string): number | null {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
