import { Answer, ApiClient } from './client';
import { follow } from './follow';

/** States of a task or a resource that mean "still working". */
export const PENDING = [
  'waiting',
  'running',
  'creating',
  'quarantining',
  'restoring',
  'deleting',
  'moving',
  'restoring_backup',
];
/** States that mean the work failed. */
export const FAILED = ['error', 'failed'];

export interface WaitOptions {
  /** false: return the 202 answer at once (`--no-wait`). */
  wait: boolean;
  /** Where the progress line goes. */
  progress?: NodeJS.WriteStream;
}

/**
 * Polls a task (or any resource with a `status`) until it leaves the pending states, with a
 * progress line on stderr (see follow). A failed one is exit code 1 with its `error`.
 */
export function waitUntilDone<T extends { status?: string; error?: string | null }>(
  client: ApiClient,
  url: string,
  what: string,
  progress?: NodeJS.WriteStream,
): Promise<T> {
  return follow<T>(client, url, what, { pending: PENDING, failed: FAILED, progress });
}

/** The task an accepted (202) answer names: `task` in the body, else a task `Location`. */
export function taskUrlOf(body: unknown, location: string | undefined): string | undefined {
  const named = (body ?? {}) as { task?: unknown; _links?: { task?: unknown } };
  if (typeof named.task === 'string') return named.task;
  if (typeof named._links?.task === 'string') return named._links.task;
  if (location && /\/api\/task\/\d+\/?$/.test(location)) return location;
  return undefined;
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
  const location = answer.headers.get('location') ?? undefined;
  const taskUrl = taskUrlOf(answer.body, location);
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
