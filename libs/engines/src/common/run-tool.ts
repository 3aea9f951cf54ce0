import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { BackupToolError } from './dump-tool';

export interface ToolRun {
  /** For messages: `pg_dump`. */
  name: string;
  command: string;
  args: string[];
  /**
   * The tool's environment, with PATH and LANG added: nothing of the API's own environment
   * (its secret key, its store's URL) is passed on. Passwords go here, never in `args`,
   * which any user of the machine can read in the process list.
   */
  env: Record<string, string>;
  /** Replaced by `[redacted]` in error messages. */
  secrets: string[];
  /** Fed to the tool's stdin (a restore). */
  input?: Readable;
  /** Receives the tool's stdout (a dump): ended on success, destroyed with the error otherwise. */
  output?: Writable;
  /** Aborted: the tool is killed and the run fails with the abort's reason. */
  signal?: AbortSignal;
}

const STDERR_KEPT = 4096;

/**
 * Runs a dump or restore tool, streaming through its stdin or stdout, and resolves once it
 * exited 0. Fails with a BackupToolError (exit status, end of stderr, secrets redacted), or
 * with the error of `input` or `output` when one of them failed first; the tool is then
 * killed at once, so a restore never sees a clean end of a cut input.
 */
export function runTool(run: ToolRun): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(run.command, run.args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', ...run.env },
      stdio: [run.input ? 'pipe' : 'ignore', run.output ? 'pipe' : 'ignore', 'pipe'],
      // Its own process group, so a kill also reaches what it started (pg_dump's workers).
      detached: true,
    });
    let stderr = '';
    let failure: Error | undefined;
    let settled = false;
    const fail = (error: Error) => {
      failure ??= error;
      killGroup(child.pid);
      // What the tool still wrote is thrown away: a paused stdout would never read its end,
      // and the child's 'close' (which settles) waits for it.
      if (run.output) child.stdout?.unpipe(run.output).resume();
    };
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (run.input && run.input.readableEnded === false) {
        // A tool that exited 0 may not read its input to the end (pg_restore skips an
        // archive's tail): the rest is read and dropped, so whatever writes it (a clone's
        // pg_dump) can finish. A failed tool's input is destroyed.
        if (error) run.input.destroy();
        else if (run.input.readable) run.input.unpipe().resume();
      }
      if (error) {
        run.output?.destroy(error);
        reject(error);
      } else {
        run.output?.end();
        resolve();
      }
    };

    if (run.signal?.aborted) fail(run.signal.reason as Error);
    run.signal?.addEventListener('abort', () => fail(run.signal!.reason as Error), { once: true });

    child.stderr!.on('data', (data: Buffer) => {
      stderr = (stderr + data.toString('utf8')).slice(-STDERR_KEPT);
    });
    child.once('error', (error) => {
      settle(new BackupToolError(`${run.name} could not start: ${error.message}`));
    });
    if (run.output) {
      child.stdout!.pipe(run.output, { end: false });
      run.output.once('error', fail);
      run.output.once('close', () => {
        if (!settled) fail(new BackupToolError(`${run.name}: its output closed before the end`));
      });
    }
    if (run.input) {
      // pipe() leaves stdin open when the input fails: the tool is killed without seeing an end.
      run.input.once('error', fail);
      child.stdin!.on('error', () => undefined); // EPIPE when the tool stops early: its exit status says why
      run.input.pipe(child.stdin!);
      if (run.input.errored) fail(run.input.errored);
      else if (run.input.destroyed)
        fail(new BackupToolError(`${run.name}: its input closed early`));
    }
    child.once('close', (code, signal) => {
      if (failure) return settle(failure);
      if (code === 0) return settle();
      const status = signal ? `signal ${signal}` : `exit code ${code}`;
      const message = `${run.name} failed (${status}): ${redact(stderr, run.secrets)}`;
      settle(new BackupToolError(message, signal ?? undefined));
    });
  });
}

function redact(text: string, secrets: string[]): string {
  let out = text.trim();
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  return out;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
