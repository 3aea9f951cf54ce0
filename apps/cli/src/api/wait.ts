import { FailedError } from '../errors';
import { Answer, ApiClient } from './client';

/** States of a task or a resource that mean "still working". */
const PENDING = new Set([
  'waiting',
  'running',
  'creating',
  'quarantining',
  'restoring',
  'deleting',
  'moving',
]);
/** States that mean the work failed. */
const FAILED = new Set(['error', 'failed']);

const POLL_MS = 1_000;

export interface WaitOptions {
  /** false: return the 202 answer at once (`--no-wait`). */
  wait: boolean;
  /** Where "waiting ..." lines go. */
  progress?: NodeJS.WritableStream;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls a task (or any resource with a `status`) until it leaves the pending states,
 * printing each new state on stderr. A failed one is exit code 1 with its `error`.
 */
export async function waitUntilDone<T extends { status?: string; error?: string | null }>(
  client: ApiClient,
  url: string,
  what: string,
  progress: NodeJS.WritableStream = process.stderr,
): Promise<T> {
  let last: string | undefined;
  for (;;) {
    const current = await client.get<T>(url);
    const status = current.status ?? 'unknown';
    if (status !== last) {
      progress.write(`${what}: ${status}\n`);
      last = status;
    }
    if (FAILED.has(status))
      throw new FailedError(`${what} failed${current.error ? `: ${current.error}` : ''}`);
    if (!PENDING.has(status)) return current;
    await sleep(POLL_MS);
  }
}

/**
 * The outcome of a write: a 200/201 answer as is; a 202 (the work goes on as a task) is
 * waited for, unless `--no-wait`: the task named in the body (`task`) or, without one, the
 * resource at `Location` until its status settles. Returns the resource as it ends.
 */
export async function settle<T = unknown>(
  client: ApiClient,
  answer: Answer<T>,
  options: WaitOptions,
): Promise<T> {
  if (answer.status !== 202) return answer.body;
  const body = (answer.body ?? {}) as { task?: unknown; _links?: { task?: unknown } };
  const location = answer.headers.get('location') ?? undefined;
  const taskUrl =
    typeof body.task === 'string'
      ? body.task
      : typeof body._links?.task === 'string'
        ? body._links.task
        : location && /\/api\/task\/\d+\/?$/.test(location)
          ? location
          : undefined;
  const progress = options.progress ?? process.stderr;
  if (!options.wait) {
    progress.write(
      `Accepted; not waiting. Follow it with: ${taskUrl ?? location ?? 'dbaas tasks list'}\n`,
    );
    return answer.body;
  }
  if (taskUrl) {
    const task = await waitUntilDone<{ id?: number; status?: string }>(
      client,
      taskUrl,
      `task ${taskUrl.replace(/.*\/api\/task\/(\d+)\/?$/, '$1')}`,
      progress,
    );
    if (location && location !== taskUrl) return client.get<T>(location);
    return task as T;
  }
  if (location) return waitUntilDone(client, location, location, progress) as Promise<T>;
  return answer.body;
}
