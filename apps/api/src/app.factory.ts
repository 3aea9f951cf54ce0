import { AppConfig } from '@dbaas/core';
import { SampleDataService } from '@dbaas/sample-data';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module';
import { setUpOpenApi } from './docs/openapi';
import { answerClientError } from './http/client-error';
import { installBodyParsers } from './http/content-type';
import { hostGuard } from './http/host';
import { originGuard } from './http/origin';
import { ProblemDetailsFilter, sendError } from './http/problem-details.filter';
import { strictValidationPipe } from './http/validation.pipe';
import { installHttpObservability } from './observability/http-observability';
import { MetricsService } from './observability/metrics.service';
import { createObservability, Observability } from './observability/observability';
import { requestIdOf } from './observability/request-context';

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
    // Fastify's length limit) are problem+json (broker errors on /v2) like every other error.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      sendError(request, reply, error),
    // And so are the requests Node's HTTP parser refuses (431, 408, not HTTP).
    clientErrorHandler: answerClientError,
  });
  const fastify = adapter.getInstance();
  // Before Nest registers any route, so that every route gets these hooks.
  installHttpObservability(fastify, observability.logger.pino, observability.http);
  fastify.addHook('onRequest', hostGuard(config));
  fastify.addHook('onRequest', originGuard(config));
  installBodyParsers(fastify, config.bodyLimitBytes);
  fastify.decorate('publicUrl', config.publicUrl ?? null);

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: observability.logger,
    // The parsers above replace Nest's JSON and form parsers.
    bodyParser: false,
    // A failure is thrown to the caller (main.ts stops the embedded store), not process.exit(1).
    abortOnError: false,
  });
  observability.http.observer = app.get(MetricsService);
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(strictValidationPipe());
  setUpOpenApi(app);
  return app;
}

/** In an empty store, the sample catalog and users (and databases if asked): true if created. */
export function seedSampleData(
  app: NestFastifyApplication,
  withDatabases: boolean,
): Promise<boolean> {
  return app.get(SampleDataService).seedIfEmpty({ withDatabases });
}
