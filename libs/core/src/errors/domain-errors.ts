/**
 * Domain errors carry no HTTP status: the API's problem filter maps each kind to one.
 * Messages must never contain a secret; they are shown to the caller and logged.
 */
export abstract class DomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Field-level validation failure: `errors` maps a field name to its messages. */
export class ValidationFailedError extends DomainError {
  constructor(
    readonly errors: Record<string, string[]>,
    message = 'The request is invalid.',
  ) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  constructor(resource: string, id?: string | number) {
    super(id === undefined ? `${resource} not found.` : `${resource} ${id} not found.`);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'You are not allowed to do this.') {
    super(message);
  }
}

/** The name is taken, or the operation conflicts with the object's current state. */
export class ConflictError extends DomainError {}

/** The team is at its `database_limit`: a 409 of its own problem type (`quota-exceeded`). */
export class QuotaExceededError extends ConflictError {}

/** The database is protected from deletion (`is_protected`): a 409 (OSB deprovision: 422). */
export class DeletionProtectedError extends ConflictError {}

/** An engine server could not be reached or did not answer in time. */
export class EngineUnavailableError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 10,
  ) {
    super(message);
  }
}

/** No infra of the plan and environment has room for another database. */
export class NoCapacityError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 60,
  ) {
    super(message);
  }
}

/** Too many failed attempts: try again after `retryAfterSeconds`. */
export class TooManyRequestsError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
