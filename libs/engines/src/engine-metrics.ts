import { EngineUnavailableError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { EngineCommandError } from './common/engine-errors';
import { EngineProvider } from './engine-provider';

/** The provider methods that talk to an engine server: each one is timed and counted. */
export const TIMED_OPERATIONS = [
  'ping',
  'createDatabase',
  'dropDatabase',
  'createUser',
  'dropUser',
  'setPassword',
  'revokeAccess',
  'restoreAccess',
  'restrictWrites',
  'allowWrites',
  'usedSize',
  'databaseExists',
  'userExists',
  'listDatabases',
  'listUsers',
  'securityWarnings',
] as const satisfies readonly (keyof EngineProvider)[];

/** Why an engine operation failed, as a bounded label value. */
export function failureReason(error: unknown): 'unavailable' | 'refused' | 'error' {
  if (error instanceof EngineUnavailableError) return 'unavailable';
  if (error instanceof EngineCommandError) return 'refused';
  return 'error';
}

/**
 * Prometheus metrics of engine operations, in a registry of their own that the API merges
 * into `/metrics`. Labels are the engine type and the provider method name only: never an
 * infra address, a database or a user name (unbounded, and not for a public scrape).
 */
@Injectable()
export class EngineMetrics {
  readonly registry = new Registry();

  readonly duration = new Histogram({
    name: 'dbaas_engine_operation_duration_seconds',
    help: 'Duration of engine provider operations, successful or not.',
    labelNames: ['engine', 'operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'dbaas_engine_operation_errors_total',
    help: 'Failed engine provider operations (reason: unavailable, refused by the engine, or other).',
    labelNames: ['engine', 'operation', 'reason'] as const,
    registers: [this.registry],
  });

  async time<T>(engine: string, operation: string, run: () => Promise<T>): Promise<T> {
    const end = this.duration.startTimer({ engine, operation });
    try {
      const result = await run();
      end({ outcome: 'success' });
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      this.errors.inc({ engine, operation, reason: failureReason(error) });
      throw error;
    }
  }

  /**
   * The same provider, with every engine operation timed. A Proxy rather than a subclass:
   * `instanceof`, `type`, the synchronous `endpoint()` and `close()` behave exactly as on
   * the provider itself.
   */
  instrument<P extends EngineProvider>(provider: P): P {
    const timed = new Set<string | symbol>(TIMED_OPERATIONS);
    return new Proxy(provider, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (!timed.has(property) || typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) =>
          this.time(target.type, String(property), () => method.apply(target, args));
      },
    });
  }
}
