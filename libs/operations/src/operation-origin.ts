import { AsyncLocalStorage } from 'node:async_hooks';

const origins = new AsyncLocalStorage<string>();

/**
 * Runs `work` with an origin that every task recorded inside it carries: who asked,
 * beyond the API user (e.g. a platform's X-Broker-API-Originating-Identity). It follows
 * the async work without threading a parameter through every service.
 */
export function withOrigin<T>(origin: string, work: () => T): T {
  return origins.run(origin.slice(0, 500), work);
}

/** The origin of the current async context, if any. */
export function currentOrigin(): string | undefined {
  return origins.getStore();
}
