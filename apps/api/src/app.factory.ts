import { AppConfig } from '@dbaas/core';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module';
import { setUpOpenApi } from './docs/openapi';
import { ProblemDetailsFilter, sendProblem } from './http/problem-details.filter';
import { toProblem } from './http/problem';
import { strictValidationPipe } from './http/validation.pipe';
import { HttpObservability, installHttpObservability } from './observability/http-observability';
import { createRootLogger, PinoLoggerService } from './observability/logger';
import { MetricsService } from './observability/metrics.service';
import { requestIdOf } from './observability/request-context';

/** The process's logger and request hooks: made before the app, so boot lines go through them. */
export interface Observability {
  logger: PinoLoggerService;
  http: HttpObservability;
}

export function createObservability(config: AppConfig): Observability {
  return {
    logger: new PinoLoggerService(createRootLogger(config.logLevel)),
    http: new HttpObservability(),
  };
}

/**
 * The HTTP app, configured but not listening: used by main.ts and by tests. It does not
 * listen for SIGTERM itself: main.ts drains and closes it (see `shutDownOnSignals`).
 */
export async function createApp(
  config: AppConfig,
  observability: Observability = createObservability(config),
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
    // The request id: a sane incoming X-Request-Id, else a new UUID (see requestIdOf).
    genReqId: requestIdOf,
    requestIdHeader: false,
    // Fastify's own logger stays off: the hooks below write one line per request.
    // On close, idle keep-alive sockets are closed; requests in flight finish first.
    forceCloseConnections: 'idle',
    // Errors the router raises before any handler (a malformed URL, a path segment over
    // Fastify's length limit) are problem+json like every other error.
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(reply, toProblem(error)),
  });
  // Before Nest registers any route, so that every route gets these hooks.
  installHttpObservability(adapter.getInstance(), observability.logger.pino, observability.http);

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: observability.logger,
  });
  observability.http.observer = app.get(MetricsService);
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(strictValidationPipe());
  setUpOpenApi(app);
  return app;
}
