import {
  ConflictError,
  DeletionProtectedError,
  EngineUnavailableError,
  ForbiddenError,
  NoCapacityError,
  NotFoundError,
  QuotaExceededError,
  TooManyRequestsError,
  ValidationFailedError,
} from '@dbaas/core';
import { EngineCommandError } from '@dbaas/engines';
import {
  HttpException,
  MethodNotAllowedException,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { IdempotencyKeyReusedError } from '../idempotency/idempotency.service';
import { toProblem } from './problem';
import { RequestRefusedError } from './request-refused';

/** The parts of a problem a client acts on. */
const answer = (error: unknown) => {
  const { status, type, headers } = toProblem(error);
  return { status, type: type.replace('https://dbaas.dev/problems/', ''), headers };
};

describe('toProblem: error to HTTP status', () => {
  it.each([
    [new ValidationFailedError({ name: ['is taken'] }), 400, 'validation-error'],
    [new NotFoundError('database', 7), 404, 'not-found'],
    [new ForbiddenError(), 403, 'forbidden'],
    [new ConflictError('The database is quarantined.'), 409, 'conflict'],
    [new QuotaExceededError('The team has reached its limit.'), 409, 'quota-exceeded'],
    [new DeletionProtectedError('The database is protected.'), 409, 'deletion-protected'],
    [new IdempotencyKeyReusedError('used for another request'), 422, 'idempotency-key-reused'],
    [new EngineCommandError('mysql', 'Access denied', 1142), 502, 'engine-error'],
    [
      new RequestRefusedError(415, 'unsupported-media-type', 'JSON only'),
      415,
      'unsupported-media-type',
    ],
    [new Error('bug'), 500, 'internal-error'],
  ])('%p → %d %s', (error, status, type) => {
    expect(answer(error)).toMatchObject({ status, type });
  });

  it('keeps the field errors of a 400', () => {
    expect(toProblem(new ValidationFailedError({ name: ['is taken'] })).errors).toEqual({
      name: ['is taken'],
    });
  });

  it('tells when to retry: 429 and both 503s carry Retry-After', () => {
    expect(answer(new TooManyRequestsError('slow down', 30))).toEqual({
      status: 429,
      type: 'too-many-requests',
      headers: { 'Retry-After': '30' },
    });
    expect(answer(new EngineUnavailableError('mysql at db1 is unavailable', 10))).toEqual({
      status: 503,
      type: 'engine-unavailable',
      headers: { 'Retry-After': '10' },
    });
    expect(answer(new NoCapacityError('no room', 60))).toEqual({
      status: 503,
      type: 'no-capacity',
      headers: { 'Retry-After': '60' },
    });
  });

  it('answers 401 with a Basic challenge and the 404 of an unknown route without its path', () => {
    expect(answer(new UnauthorizedException())).toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': expect.stringMatching(/^Basic realm="/) },
    });
    const notFound = toProblem(new NotFoundException('Cannot GET /secret/path'));
    expect(notFound).toMatchObject({ status: 404, detail: 'No such resource.' });
    expect(answer(new MethodNotAllowedException())).toMatchObject({
      status: 405,
      type: 'method-not-allowed',
    });
    expect(answer(new HttpException('teapot', 418))).toMatchObject({ status: 418, type: 'error' });
  });

  it('maps fastify body errors to their 4xx and bare JSON syntax errors to 400', () => {
    const tooLarge = Object.assign(new Error('x'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    expect(toProblem(tooLarge)).toMatchObject({
      status: 413,
      detail: 'The request body is larger than the server accepts.',
    });
    expect(answer(new SyntaxError('Unexpected token'))).toMatchObject({ status: 400 });
    // A 5xx statusCode on a foreign error is no client error: it stays a 500.
    expect(answer(Object.assign(new Error('x'), { statusCode: 502 }))).toMatchObject({
      status: 500,
    });
  });

  it('answers 503 with Retry-After when the metadata store is down, 500 for other store errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const adminShutdown = new QueryFailedError(
      'SELECT 1',
      [],
      Object.assign(new Error('terminating'), { code: '57P01' }),
    );
    const terminated = new Error('Connection terminated unexpectedly');
    for (const error of [refused, adminShutdown, terminated]) {
      expect(answer(error)).toEqual({
        status: 503,
        type: 'store-unavailable',
        headers: { 'Retry-After': '5' },
      });
    }
    const uniqueViolation = new QueryFailedError(
      'INSERT',
      [],
      Object.assign(new Error('dup'), { code: '23505' }),
    );
    expect(answer(uniqueViolation)).toMatchObject({ status: 500 });
  });

  it('never puts the message of an unknown error in the problem', () => {
    const problem = toProblem(new Error('password=hunter2'));
    expect(JSON.stringify(problem)).not.toContain('hunter2');
  });
});
