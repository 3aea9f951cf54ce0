import { AppConfig } from '@dbaas/core';
import { HttpObservability } from './http-observability';
import { createRootLogger, PinoLoggerService } from './logger';

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
