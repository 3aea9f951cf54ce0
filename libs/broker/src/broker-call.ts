import { AuthenticatedUser } from '@dbaas/auth';
import { withOrigin } from '@dbaas/operations';

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
