import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';

/** Fails with the Debian package to install when an engine binary is missing. */
export function requireBinary(path: string, debianPackage: string): string {
  if (!existsSync(path)) {
    throw new Error(
      `Engine binary ${path} not found: install it with "apt-get install -y ${debianPackage}".`,
    );
  }
  return path;
}

/** Runs a command, rejecting with its output when it fails (output never holds secrets here). */
export function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${cmd} ${args[0] ?? ''} failed: ${error.message}\n${stdout}\n${stderr}`));
      } else {
        resolve(String(stdout));
      }
    });
  });
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dbaas-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForPort(host: string, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`Nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function waitForExit(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      killQuietly(pid, 'SIGKILL');
      return;
    }
    await sleep(25);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Last-resort cleanup: if a test run crashes or forgets destroy(), the server processes and
 * temp folders registered here are killed and removed when the Jest worker exits.
 * Best effort only: a SIGKILLed worker cannot clean up after itself.
 */
const cleanups = new Map<number, () => void>();
let nextCleanupId = 1;
let hooked = false;

export function registerCleanup(fn: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.once('exit', runAllCleanups);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        runAllCleanups();
        process.exit(130);
      });
    }
  }
  const id = nextCleanupId++;
  cleanups.set(id, fn);
  return () => cleanups.delete(id);
}

function runAllCleanups(): void {
  for (const fn of cleanups.values()) {
    try {
      fn();
    } catch {
      // keep going: the other servers still need to die
    }
  }
  cleanups.clear();
}

/** Synchronous helper for exit-time cleanup, where promises no longer run. */
export function runSync(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
}
