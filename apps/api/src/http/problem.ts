import {
  ConflictError,
  DeletionProtectedError,
  DomainError,
  EngineUnavailableError,
  ForbiddenError,
  NoCapacityError,
  NotFoundError,
  QuotaExceededError,
  TooManyRequestsError,
  ValidationFailedError,
} from '@dbaas/core';
import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { BASIC_REALM } from '@dbaas/auth';
import { EngineCommandError } from '@dbaas/engines';
import { IdempotencyKeyReusedError } from '../idempotency/idempotency.service';
import { RequestRefusedError } from './request-refused';

/** An RFC 9457 problem document plus the headers that go with it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Record<string, string[]>;
  headers: Record<string, string>;
}

const TYPE_BASE = 'https://dbaas.dev/problems/';

function problem(
  status: number,
  slug: string,
  detail: string,
  extra: Partial<Problem> = {},
): Problem {
  return {
    type: TYPE_BASE + slug,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    headers: {},
    ...extra,
  };
}

const SLUGS: Record<number, string> = {
  400: 'invalid-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  409: 'conflict',
  408: 'request-timeout',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'unprocessable',
  429: 'too-many-requests',
  431: 'request-header-fields-too-large',
  503: 'service-unavailable',
};

function fromDomain(error: DomainError): Problem | undefined {
  if (error instanceof ValidationFailedError) {
    return problem(400, 'validation-error', error.message, { errors: error.errors });
  }
  if (error instanceof NotFoundError) return problem(404, 'not-found', error.message);
  if (error instanceof IdempotencyKeyReusedError)
    return problem(422, 'idempotency-key-reused', error.message);
  if (error instanceof ForbiddenError) return problem(403, 'forbidden', error.message);
  if (error instanceof QuotaExceededError) return problem(409, 'quota-exceeded', error.message);
  if (error instanceof DeletionProtectedError)
    return problem(409, 'deletion-protected', error.message);
  if (error instanceof ConflictError) return problem(409, 'conflict', error.message);
  if (error instanceof TooManyRequestsError) {
    return problem(429, 'too-many-requests', error.message, {
      headers: { 'Retry-After': String(error.retryAfterSeconds) },
    });
  }
  if (error instanceof EngineUnavailableError || error instanceof NoCapacityError) {
    const slug = error instanceof NoCapacityError ? 'no-capacity' : 'engine-unavailable';
    return problem(503, slug, error.message, {
      headers: { 'Retry-After': String(error.retryAfterSeconds) },
    });
  }
  return undefined;
}

/** Nest's own exceptions (unknown route, passport's 401, ...). */
function fromHttpException(error: HttpException): Problem {
  const status = error.getStatus();
  const response = error.getResponse();
  let detail = typeof response === 'string' ? response : error.message;
  if (status === Number(HttpStatus.UNAUTHORIZED)) {
    return problem(401, 'unauthorized', 'A valid login is required (HTTP Basic).', {
      headers: { 'WWW-Authenticate': `Basic realm="${BASIC_REALM}"` },
    });
  }
  if (status === Number(HttpStatus.NOT_FOUND)) detail = 'No such resource.';
  return problem(status, SLUGS[status] ?? 'error', detail);
}

/** Fastify's own request errors (body too large, bad JSON, media type) carry a 4xx statusCode. */
function fromFastify(error: {
  statusCode?: number;
  code?: string;
  message?: string;
}): Problem | undefined {
  const status = error.statusCode;
  if (!status || status < 400 || status >= 500) return undefined;
  const details: Record<string, string> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than the server accepts.',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Send the body as application/json.',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty but the content type says JSON.',
    FST_ERR_CTP_INVALID_JSON_BODY: 'The body is not valid JSON.',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The body is not as long as Content-Length says.',
  };
  const detail = (error.code && details[error.code]) || 'The request could not be read.';
  return problem(status, SLUGS[status] ?? 'invalid-request', detail);
}

const STORE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** The metadata store went away (restart, network): a 503 the client can retry, not a 500. */
function isStoreUnavailable(error: unknown): boolean {
  const e = error as {
    code?: string;
    driverError?: { code?: string; message?: string };
    message?: string;
  } | null;
  const code = e?.driverError?.code ?? e?.code;
  const message = e?.driverError?.message ?? e?.message ?? '';
  return (
    (code !== undefined && STORE_DOWN_CODES.has(code)) ||
    /Connection terminated|connection timeout/i.test(message)
  );
}

/** Maps anything thrown while serving a request to a problem; unknown errors become a bare 500. */
export function toProblem(error: unknown): Problem {
  if (error instanceof DomainError) {
    const mapped = fromDomain(error);
    if (mapped) return mapped;
  }
  if (error instanceof HttpException) return fromHttpException(error);
  if (error instanceof RequestRefusedError) return problem(error.status, error.slug, error.detail);
  if (error instanceof EngineCommandError) {
    // The engine answered but refused the statement: a gateway error, details logged only.
    return problem(
      502,
      'engine-error',
      'The engine server refused the operation; see the server log.',
    );
  }
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === undefined) {
    return problem(400, 'invalid-request', 'The body is not valid JSON.');
  }
  const fastify = fromFastify((error ?? {}) as { statusCode?: number });
  if (fastify) return fastify;
  if (isStoreUnavailable(error)) {
    return problem(
      503,
      'store-unavailable',
      'The metadata store is not reachable right now; retry shortly.',
      {
        headers: { 'Retry-After': '5' },
      },
    );
  }
  return problem(500, 'internal-error', 'An unexpected error occurred; it has been logged.');
}
