import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../harness';

const ROOT = join(__dirname, '..', '..', '..');
export const API_MAIN = join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js');
export const CLI_MAIN = join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');

/**
 * The Node.js flags of `npm start` (heap settings), so tests and the bench run the API
 * exactly as users do.
 */
export const API_NODE_FLAGS: string[] = (() => {
  const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts
    .start as string;
  const command = /\bnode((?:\s+--\S+)*)\s+dist\/apps\/api\/src\/main\.js/.exec(start);
  if (!command)
    throw new Error(`package.json start does not run dist/apps/api/src/main.js: ${start}`);
  return command[1].trim().split(/\s+/).filter(Boolean);
})();

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a built entry point to completion with the given environment. Standard input gets
 * `input` and is then closed (so a command reading it never waits for a terminal).
 */
export function runNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
  input = '',
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...baseEnv(), ...env },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdin.on('error', () => undefined); // a command that exits before reading it
    child.stdin.end(input);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment a test app gets: nothing from the developer's shell that changes behaviour. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'NODE_OPTIONS'];
  return Object.fromEntries(keep.filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));
}

/** The environment that logs the CLI's API commands in to this API (no saved login needed). */
export const apiLoginEnv = (
  baseUrl: string,
  user = 'admin',
  password = '123456',
): Record<string, string> => ({ DBAAS_URL: baseUrl, DBAAS_USER: user, DBAAS_PASSWORD: password });

export const newSecretKey = () => randomBytes(32).toString('hex');

/** The real API, built, running as its own process: what a user would run. */
export class ApiProcess {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly env: Record<string, string>,
  ) {
    child.stdout!.on('data', (chunk) => (this.output += chunk));
    child.stderr!.on('data', (chunk) => (this.output += chunk));
  }

  /** `upWithinMs`: how long it may take to answer /health (a fresh embedded store takes longest). */
  static async start(
    env: Record<string, string>,
    port?: number,
    upWithinMs = 30_000,
  ): Promise<ApiProcess> {
    const api = ApiProcess.spawn(env, port ?? (await freePort()));
    await api.waitUntilUp(upWithinMs);
    return api;
  }

  /** Starts the process without waiting for it to answer (the bench times its start-up). */
  static spawn(env: Record<string, string>, port: number): ApiProcess {
    const fullEnv = { LOG_LEVEL: 'log', ...env, PORT: String(port), HOST: '127.0.0.1' };
    const child = spawn(process.execPath, [...API_NODE_FLAGS, API_MAIN], {
      env: { ...baseEnv(), ...fullEnv },
      stdio: 'pipe',
    });
    return new ApiProcess(child, port, fullEnv);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything the process printed so far. */
  get logs(): string {
    return this.output;
  }

  cli(args: string[]): Promise<CommandResult> {
    return runNode(CLI_MAIN, args, this.env);
  }

  /** Ends the process abruptly (no shutdown hooks), as a crash would. */
  async kill(): Promise<void> {
    if (this.ended) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** The OS process id (to send signals). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the exit code once the process ends. */
  exited(): Promise<number | null> {
    if (this.ended) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Exited by itself or killed by a signal. */
  get ended(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  async stop(): Promise<void> {
    if (this.ended) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private async waitUntilUp(withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`API exited (${this.child.exitCode}):\n${this.output}`);
      try {
        const response = await fetch(`${this.baseUrl}/health`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.child.kill('SIGKILL');
    throw new Error(`API did not come up:\n${this.output}`);
  }
}
