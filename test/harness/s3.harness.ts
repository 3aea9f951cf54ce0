import { ChildProcess, spawn } from 'node:child_process';
import { freePort } from './free-port';
import {
  killQuietly,
  makeTempDir,
  registerCleanup,
  removeDir,
  waitForExit,
  waitForPort,
} from './process-utils';

/** A throwaway S3-compatible server with one bucket, for the backup storage. */
export interface S3Server {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its folder. Safe to call twice. */
  destroy(): Promise<void>;
}

/**
 * Starts s3rver (an S3-compatible server from npm: signed requests, multipart uploads,
 * objects on disk) as its own process on a free port, with an empty bucket. Its
 * credentials are s3rver's fixed pair; a request signed with any other secret is refused.
 */
export async function startS3(bucket = 'dbaas-backups'): Promise<S3Server> {
  const dir = makeTempDir('s3');
  const host = '127.0.0.1';
  let child: ChildProcess | null = null;
  let port = 0;
  const unregister = registerCleanup(() => {
    if (child?.pid) killQuietly(child.pid, 'SIGKILL');
    removeDir(dir);
  });

  const start = async () => {
    const proc = spawn(
      process.execPath,
      [
        require.resolve('s3rver/bin/s3rver.js'),
        ...['--directory', dir, '--address', host, '--port', String(port), '--silent'],
        ...['--configure-bucket', bucket],
      ],
      { stdio: 'ignore' },
    );
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`s3rver exited with code ${code}`))),
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
    try {
      await start();
      break;
    } catch (error) {
      await stop();
      if (attempt >= 2) {
        unregister();
        removeDir(dir);
        throw error;
      }
    }
  }

  let destroyed = false;
  return {
    endpoint: `http://${host}:${port}`,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
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
