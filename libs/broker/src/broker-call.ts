import { AuthenticatedUser } from '@dbaas/auth';
import { withOrigin } from '@dbaas/operations';
import { InvalidBrokerRequestError } from './broker-errors';

/** What every broker request carries besides its body. */
export interface BrokerCall {
  viewer: AuthenticatedUser;
  /** The platform's originating identity, as the task history records it. */
  origin?: string;
  /** The platform polls last_operation: long work may finish in the background. */
  acceptsIncomplete: boolean;
}

/** Runs work with the platform's identity recorded as the origin of its tasks. */
export function asCaller<T>(call: BrokerCall, work: () => Promise<T>): Promise<T> {
  return call.origin ? withOrigin(call.origin, work) : work();
}

/** The service and plan a platform names in the query of DELETE, GET and last_operation. */
export interface BrokerQuery {
  serviceId?: string;
  planId?: string;
  operation?: string;
}

/** An instance or binding id: what the platform chose, within the column's limit. */
export function checkId(what: string, id: string): void {
  if (!id || id.length > 255)
    throw new InvalidBrokerRequestError(
      `The ${what} must be a non-empty string of at most 255 characters.`,
    );
}
