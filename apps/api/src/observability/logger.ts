import { AppConfig } from '@dbaas/core';
import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Level, Logger as Pino } from 'pino';
import { currentRequestId } from './request-context';

/** LOG_LEVEL (Nest's names) to pino's threshold; `debug` also shows Nest's `verbose`. */
const PINO_LEVELS: Record<AppConfig['logLevel'], Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'trace',
};

/**
 * Defence in depth: nothing logs request bodies, headers or secrets on purpose, and these
 * paths are censored should an object carrying one ever be logged.
 */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'adminPassword',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'data.password',
  'data.adminPassword',
  'data.authorization',
  'data.headers.authorization',
  'data.headers.cookie',
  'data.*.password',
  'body',
  'req.body',
];

/**
 * The process's one pino logger: one JSON object per line on stdout, ISO time, level as a
 * word. Synchronous writes keep the lines in order with the boot messages and lose nothing
 * when the process exits.
 */
export function createRootLogger(
  level: AppConfig['logLevel'],
  destination: DestinationStream = pino.destination({ dest: 1, sync: true }),
): Pino {
  return pino(
    {
      level: PINO_LEVELS[level],
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

const STACK = /\n\s+at /;

type NestLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
const TO_PINO: Record<NestLevel, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * Nest's logger (every `new Logger(context)` in the app and Nest's own boot lines) written
 * through pino, with `context` and, inside a request, the request's `reqId`.
 */
export class PinoLoggerService implements LoggerService {
  constructor(readonly pino: Pino) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(nestLevel: NestLevel, message: unknown, params: unknown[]): void {
    const level = TO_PINO[nestLevel];
    if (!this.pino.isLevelEnabled(level)) return;
    const rest = [...params];
    // Nest passes the context last: `logger.error(message, stack?, context?)`.
    const last = rest[rest.length - 1];
    const context =
      typeof last === 'string' && !STACK.test(last) ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = {};
    const reqId = currentRequestId();
    if (reqId) fields.reqId = reqId;
    if (context) fields.context = context;
    let text: string;
    if (message instanceof Error) {
      // Only these three: driver errors carry extra fields (mysql2 attaches the SQL).
      fields.error = { name: message.name, message: message.message, stack: message.stack };
      text = message.message;
    } else if (typeof message === 'object' && message !== null) {
      fields.data = message;
      text = '';
    } else {
      text = String(message);
    }
    for (const param of rest) {
      if (typeof param === 'string' && STACK.test(param)) fields.stack = param;
      else if (typeof param === 'string') text += ` ${param}`;
    }
    this.pino[level](fields, text);
  }
}
