import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineServer } from './engine-server';
import { freePort } from './free-port';
import {
  killQuietly,
  makeTempDir,
  registerCleanup,
  removeDir,
  requireBinary,
  waitForExit,
  waitForPort,
} from './process-utils';

/**
 * Starts a Redis server on a free port with no persistence. The `default` user is off and
 * the admin is the ACL user `admin`, so every login needs a password. A restart (stop/start)
 * loses the keys (no persistence) but keeps ACL users saved with CONFIG REWRITE, or with
 * ACL SAVE into `users.acl` when `aclFile` is set (the users are then kept there, not in
 * redis.conf).
 */
export async function startRedis(options: { aclFile?: boolean } = {}): Promise<EngineServer> {
  const redisServer = requireBinary('/usr/bin/redis-server', 'redis-server');
  const dir = makeTempDir('redis');
  const host = '127.0.0.1';
  const adminUser = 'admin';
  const adminPassword = randomBytes(18).toString('hex');
  const configFile = join(dir, 'redis.conf');
  const logFile = join(dir, 'redis.log');
  let child: ChildProcess | null = null;
  let port = 0;

  const unregister = registerCleanup(() => {
    if (child?.pid) killQuietly(child.pid, 'SIGKILL');
    removeDir(dir);
  });

  // Written once: CONFIG REWRITE (the provider persists ACL users that way) then keeps
  // the users across stop/start, as on a real server.
  const users = ['user default off', `user ${adminUser} on >${adminPassword} ~* &* +@all`];
  const aclFile = join(dir, 'users.acl');
  const writeConfig = () => {
    if (options.aclFile) writeFileSync(aclFile, users.join('\n') + '\n', { mode: 0o600 });
    writeFileSync(
      configFile,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'save ""',
        'appendonly no',
        `dir ${dir}`,
        'daemonize no',
        `logfile ${logFile}`,
        ...(options.aclFile ? [`aclfile ${aclFile}`] : users),
      ].join('\n') + '\n',
      { mode: 0o600 },
    );
  };
  const start = async () => {
    const proc = spawn(redisServer, [configFile], { stdio: 'ignore' });
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPort(host, port), exited]);
  };
  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc?.pid || proc.exitCode !== null) return;
    killQuietly(proc.pid, 'SIGKILL');
    await waitForExit(proc.pid);
  };

  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    writeConfig();
    try {
      await start();
      break;
    } catch (error) {
      await stop();
      if (attempt >= 2) {
        unregister();
        const log = safeRead(logFile);
        removeDir(dir);
        throw new Error(`${(error as Error).message}\n${log}`);
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
    url: `redis://${adminUser}:${adminPassword}@${host}:${port}/0`,
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

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
