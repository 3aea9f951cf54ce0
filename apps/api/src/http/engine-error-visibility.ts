import { AuthenticatedUser } from '@dbaas/auth';
import { EngineUnavailableError } from '@dbaas/core';

/**
 * An unreachable engine's message names the server (`postgresql at host:port is
 * unavailable: ...`): for a dba only (SPEC §11). Anyone else gets the same 503 and
 * Retry-After with a sentence that names nothing.
 */
export function engineErrorForViewer(
  error: unknown,
  viewer: AuthenticatedUser | undefined,
): unknown {
  if (!(error instanceof EngineUnavailableError) || viewer?.role === 'dba') return error;
  return new EngineUnavailableError(
    'The database engine is not reachable right now; retry shortly.',
    error.retryAfterSeconds,
  );
}
