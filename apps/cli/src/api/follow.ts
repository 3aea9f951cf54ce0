import { FailedError } from '../errors';
import { ApiClient } from './client';

const POLL_MS = 1_000;
/** In a log or a pipe, an unchanged status is repeated at most this often. */
const LOG_EVERY_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `12.3 MB` */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export interface FollowOptions<T> {
  /** The states that mean "still working". */
  pending: readonly string[];
  /** The states that mean the work failed (exit 1 with the resource's `error`). */
  failed: readonly string[];
  /** What to show besides the status, e.g. the bytes written so far. */
  detail?: (current: T) => string | undefined;
  progress?: NodeJS.WriteStream;
}

/**
 * Polls a resource with a `status` until it settles, with one progress line on stderr:
 * `backup 12: running, 48.2 MB, 14 s`. On a terminal the line is redrawn in place; in a log
 * or a pipe a line is written when the status changes, and at most every 10 s otherwise.
 */
export async function follow<T extends { status?: string; error?: string | null }>(
  client: ApiClient,
  url: string,
  what: string,
  options: FollowOptions<T>,
): Promise<T> {
  const stream = options.progress ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const started = Date.now();
  let lastStatus: string | undefined;
  let lastWritten = 0;
  for (;;) {
    const current = await client.get<T>(url);
    const status = current.status ?? 'unknown';
    const seconds = Math.round((Date.now() - started) / 1000);
    const detail = options.detail?.(current);
    const line = `${what}: ${status}${detail ? `, ${detail}` : ''}, ${seconds} s`;
    const done = !options.pending.includes(status);
    if (tty) {
      stream.write(`\r\x1b[2K${line}${done ? '\n' : ''}`);
    } else if (status !== lastStatus || done || Date.now() - lastWritten >= LOG_EVERY_MS) {
      stream.write(`${line}\n`);
      lastWritten = Date.now();
    }
    lastStatus = status;
    if (options.failed.includes(status))
      throw new FailedError(`${what} failed${current.error ? `: ${current.error}` : ''}`);
    if (done) return current;
    await sleep(POLL_MS);
  }
}
