import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  TooManyRequestsError,
  ValidationFailedError,
} from '@dbaas/core';
import { EngineCommandError } from '@dbaas/engines';

/**
 * Why the broker refuses a request. No HTTP status here: the API's broker filter gives
 * each kind its Open Service Broker answer (status and `error` code).
 */
export abstract class BrokerRequestError extends DomainError {}

/** The request is malformed, or names something that does not fit (a plan, a team, a name). */
export class InvalidBrokerRequestError extends BrokerRequestError {}

/** No such instance or binding for this caller, or not (yet) in a state to be read. */
export class BrokerResourceNotFoundError extends BrokerRequestError {}

/** Deprovision or unbind of something that is not there (any more). */
export class BrokerResourceGoneError extends BrokerRequestError {}

/** The instance or binding id exists with other attributes, or may not be reused. */
export class BrokerResourceConflictError extends BrokerRequestError {}

/** Another operation on the instance or binding is still running. */
export class OperationInProgressError extends BrokerRequestError {}

/** The instance's database is protected from deletion (`is_protected`): deprovision is refused. */
export class InstanceProtectedError extends BrokerRequestError {}

/**
 * An update the instance cannot take: a plan of another service or environment, a
 * parameter that cannot change, a plan dbaas refuses for the database.
 */
export class UnprocessableUpdateError extends BrokerRequestError {}

/** The instance is being provisioned asynchronously: the platform must accept that. */
export class AsyncRequiredError extends BrokerRequestError {}

/** The request names a maintenance_info the catalog does not announce. */
export class MaintenanceInfoConflictError extends BrokerRequestError {}

/**
 * Whether an error refuses the request (the caller's to fix: nothing was done) rather
 * than a failure of dbaas or an engine. The API answers the first kind with a 4xx.
 */
export function isRefusal(error: unknown): boolean {
  return (
    error instanceof BrokerRequestError ||
    error instanceof ValidationFailedError ||
    error instanceof NotFoundError ||
    error instanceof ForbiddenError ||
    error instanceof ConflictError ||
    error instanceof TooManyRequestsError
  );
}

/**
 * What went wrong, in words fit for the platform and the instance's record: a domain
 * error's own message (it never holds a secret), nothing of any other error.
 */
export function failureText(error: unknown): string {
  if (error instanceof ValidationFailedError) {
    const fields = Object.entries(error.errors).map(
      ([field, messages]) => `${field}: ${messages.join(', ')}`,
    );
    return fields.length ? `${error.message} ${fields.join('; ')}` : error.message;
  }
  if (error instanceof DomainError) return error.message;
  if (error instanceof EngineCommandError)
    return 'The engine server refused the operation; see the server log.';
  return 'An unexpected error occurred; it has been logged.';
}
