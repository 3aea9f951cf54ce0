import { ConfigError, loadConfig } from '@dbaas/core';
import { OpenStore, StartingStore, startStore } from '@dbaas/persistence';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createObservability, Observability } from './observability/observability';

/** SIGTERM (and Ctrl-C) to exit, at most. */
const SHUTDOWN_DEADLINE_MS = 10_000;

/**
 * Graceful shutdown. Nest's `enableShutdownHooks()` is not used: it re-sends the signal to
 * the process at the end (exit by signal, not 0) and has no deadline. Here:
 * 1. new requests get 503 and every answer `Connection: close`; requests in flight finish
 *    (Fastify's close waits for them, then the server stops);
 * 2. the shutdown hooks run: background schedulers stop (waiting for a running round),
 *    engine pools close (EngineRegistry), the metadata store closes (TypeORM), and the
 *    embedded PostgreSQL server, if any, stops;
 * 3. the process then exits by itself with code 0, nothing left to keep it alive. Should
 *    anything still hold it (or a request never end), it exits with code 1 at the deadline.
 */
function shutDownOnSignals(
  app: NestFastifyApplication,
  store: OpenStore,
  observability: Observability,
): void {
  const logger = new Logger('Shutdown');
  let started = false;
  const shutDown = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn(`${signal} again: still shutting down`);
      return;
    }
    started = true;
    const began = Date.now();
    logger.log(`${signal}: finishing requests in flight, then closing`);
    observability.http.closing = true;
    setTimeout(() => {
      logger.error(`Not stopped within ${SHUTDOWN_DEADLINE_MS / 1000} s: exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app
      .close()
      .then(() => store.close())
      .then(
        () => {
          logger.log(`Closed in ${Date.now() - began} ms`);
          process.exitCode = 0;
        },
        (error: Error) => {
          logger.error(`Shutdown failed: ${error.message}`, error.stack);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutDown);
  process.on('SIGINT', shutDown);
}

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`dbaas: invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const observability = createObservability(config);
  Logger.overrideLogger(observability.logger);
  const logger = new Logger('dbaas');
  let starting: StartingStore;
  try {
    starting = await startStore(config, 'the API', new Logger('Store'), (message) => {
      logger.error(`Metadata store lost: ${message}; exiting`);
      process.exit(1);
    });
  } catch (error) {
    process.stderr.write(`dbaas: ${(error as Error).message}\n`);
    process.exit(1);
  }
  let app: NestFastifyApplication | undefined;
  try {
    // Loading the app's modules takes most of the start-up: the embedded PostgreSQL server,
    // started above, gets ready meanwhile. Hence these imports here and not at the top.
    const { createApp, seedSampleData } = await import('./app.factory');
    const store = await starting.ready();
    logger.log(`Metadata store: ${store.description}`);
    app = await createApp(store.config, observability);
    shutDownOnSignals(app, store, observability);
    const withDatabases = config.seedSampleDatabases;
    if (config.seedSampleData && (await seedSampleData(app, withDatabases))) {
      logger.log(
        withDatabases
          ? 'Empty store: sample data created (admin/123456, user/123456) with the sample databases'
          : 'Empty store: sample data created (admin/123456, user/123456); no sample database (DBAAS_SAMPLE_DATABASES=true adds them)',
      );
    }
    await app.listen(config.port, config.host);
  } catch (error) {
    // Whatever failed (loading the app, the store, creating the app, listening), the
    // embedded PostgreSQL server started above must not outlive this process (stopping it
    // is its store's close() too: once is enough). An app already made is closed first:
    // its background jobs finish their round and its pool closes while the store is up.
    process.stderr.write(`dbaas: ${(error as Error).message}\n`);
    await app?.close().catch(() => undefined);
    await starting.stop().catch(() => undefined);
    process.exit(1);
  }
  logger.log(`Listening on http://${config.host}:${config.port} (Swagger UI at /api/docs)`);
}

void bootstrap();
