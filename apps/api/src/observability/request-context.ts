import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';

/** What every log line written while serving a request knows about it. */
export interface RequestContext {
  requestId: string;
}

/** Carries the request id through every await of a request (services log with it). */
export const requestContext = new AsyncLocalStorage<RequestContext>();

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An incoming id is kept when a proxy or client sent a sane one (so one id follows the
 * request across services): at most 128 characters of letters, digits and `-_.:@`. Anything
 * else (empty, too long, spaces, control characters that could forge log lines) is replaced.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Fastify's `genReqId`: the incoming X-Request-Id if sane, else a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers[REQUEST_ID_HEADER];
  const incoming = Array.isArray(header) ? header[0] : header;
  return incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}
