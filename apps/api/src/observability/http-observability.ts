import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger as Pino } from 'pino';
import { REQUEST_ID_HEADER, requestContext } from './request-context';
import { applySecurityHeaders } from './security-headers';

/** Where request timings go (MetricsService, once the app exists). */
export interface RequestObserver {
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

/** Shared between the HTTP hooks and the shutdown handler. */
export class HttpObservability {
  observer?: RequestObserver;
  /** Set on SIGTERM: answers then carry `Connection: close`, so keep-alive sockets end. */
  closing = false;
}

/** Probes and scrapes come every few seconds: logged at debug, not at info. */
const QUIET_ROUTES = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

/** The route pattern (`/api/database/:id`), never the raw URL: bounded label values. */
export function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/**
 * Hooks on the Fastify instance, added before Nest registers any route so they run for
 * every request, the 404s and the Swagger UI included:
 * - the request id (see `requestIdOf`) is echoed in `X-Request-Id` and bound to the
 *   request's async context, so every log line written while serving it carries `reqId`;
 * - one `request completed` line per request (method, route, path, status, duration; never
 *   the query string, a header or a body) and the duration histogram;
 * - the security headers.
 */
export function installHttpObservability(
  fastify: FastifyInstance,
  logger: Pino,
  state: HttpObservability,
): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    requestContext.run({ requestId: request.id }, done);
  });
  // Body parsing resumes on socket events, outside the context entered above: enter it
  // again right before the handler (Nest's guards, pipes, interceptors and controllers).
  fastify.addHook('preHandler', (request, _reply, done) => {
    requestContext.run({ requestId: request.id }, done);
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    applySecurityHeaders(request, reply);
    if (state.closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const route = routeOf(request);
    const seconds = reply.elapsedTime / 1000;
    state.observer?.observeRequest(request.method, route, reply.statusCode, seconds);
    const quiet = QUIET_ROUTES.has(route);
    logger[quiet ? 'debug' : 'info'](
      {
        reqId: request.id,
        context: 'HTTP',
        method: request.method,
        route,
        path: request.url.split('?', 1)[0],
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
    done();
  });
}
