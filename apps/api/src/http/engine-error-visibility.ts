import { AuthenticatedUser } from '@dbaas/auth';
import { EngineUnavailableError } from '@dbaas/core';
import { FastifyRequest } from 'fastify';

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

/** The logged-in user of a request, once the auth guard has run (none before a route). */
export function viewerOf(request: FastifyRequest): AuthenticatedUser | undefined {
  return (request as FastifyRequest & { user?: AuthenticatedUser }).user;
}

/**
 * A task's error text for this viewer: an unreachable engine's message names the server
 * and the driver's reason (`mysql at host:port is unavailable: ...`), for a dba only.
 */
export function taskErrorForViewer(error: string | null, viewer: AuthenticatedUser): string | null {
  if (error === null || viewer.role === 'dba') return error;
  return error.replace(/^(\S+) at \S+ is unavailable: [\s\S]*$/, '$1 server is unavailable');
}
