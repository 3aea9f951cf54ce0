import {
  AsyncRequiredError,
  BrokerRequestError,
  BrokerResourceConflictError,
  BrokerResourceGoneError,
  BrokerResourceNotFoundError,
  InstanceProtectedError,
  InvalidBrokerRequestError,
  MaintenanceInfoConflictError,
  OperationInProgressError,
  UnprocessableUpdateError,
} from '@dbaas/broker';
import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { engineErrorForViewer, viewerOf } from '../http/engine-error-visibility';
import { toProblem } from '../http/problem';

/** The error body of the Open Service Broker API (not problem+json). */
export interface BrokerErrorBody {
  error: string;
  description: string;
  instance_usable?: boolean;
}

/**
 * An answer of the broker API that is not a success: a status, the spec's camel-case
 * `error` code and a user-facing `description`. Also used for 410 Gone, whose body is `{}`.
 */
export class BrokerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'BrokerError';
  }

  body(): BrokerErrorBody | Record<string, never> {
    if (this.status === Number(HttpStatus.GONE)) return {};
    return { error: this.code, description: this.description };
  }
}

type BrokerErrorKind = abstract new (message: string) => BrokerRequestError;

/** The Open Service Broker answer to each refusal of the broker lib: status and `error` code. */
export const BROKER_ERROR_ANSWERS: readonly [BrokerErrorKind, number, string][] = [
  [InvalidBrokerRequestError, 400, 'BadRequest'],
  [BrokerResourceNotFoundError, 404, 'NotFound'],
  [BrokerResourceConflictError, 409, 'Conflict'],
  [BrokerResourceGoneError, 410, 'Gone'],
  [OperationInProgressError, 422, 'ConcurrencyError'],
  [AsyncRequiredError, 422, 'AsyncRequired'],
  [MaintenanceInfoConflictError, 422, 'MaintenanceInfoConflict'],
  [InstanceProtectedError, 422, 'UnprocessableEntity'],
  [UnprocessableUpdateError, 422, 'UnprocessableEntity'],
];

/** The spec's camel-case code for an HTTP status: `Bad Request` → `BadRequest`. */
export function codeFor(status: number): string {
  if (status >= 500 && status !== 502 && status !== 503) return 'InternalError';
  return (STATUS_CODES[status] ?? 'Error').replace(/[^A-Za-z]/g, '');
}

/**
 * Any error as the broker body: broker errors as they are, the broker lib's refusals by
 * BROKER_ERROR_ANSWERS; domain, Nest and store errors
 * through the same mapping as problem+json (so statuses and Retry-After agree with /api),
 * rewritten as `{error, description}`. Validation messages are folded into the description.
 */
export function toBrokerError(error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  const answer = BROKER_ERROR_ANSWERS.find(([kind]) => error instanceof kind);
  if (answer) return new BrokerError(answer[1], answer[2], (error as Error).message);
  const problem = toProblem(error);
  let description = problem.detail;
  if (problem.errors) {
    const fields = Object.entries(problem.errors).map(
      ([field, messages]) => `${field}: ${messages.join(', ')}`,
    );
    if (fields.length) description = `${description} ${fields.join('; ')}`;
  }
  if (error instanceof HttpException && problem.status === Number(HttpStatus.NOT_FOUND))
    description = 'No such route.';
  return new BrokerError(problem.status, codeFor(problem.status), description, problem.headers);
}

const logger = new Logger('Broker');

/** Writes any error as the broker's answer; server-side failures are logged. */
export function sendBrokerError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
): void {
  const answer = toBrokerError(engineErrorForViewer(error, viewerOf(request)));
  if (answer.status >= 500) {
    const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
    logger.error(`${request.method} ${request.url.split('?')[0]} failed: ${reason}`);
  }
  void reply
    .status(answer.status)
    .headers(answer.headers)
    .type('application/json')
    .send(answer.body());
}

/** Every error under /v2 in the Open Service Broker format, never problem+json. */
@Catch()
export class BrokerErrorFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendBrokerError(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), error);
  }
}
