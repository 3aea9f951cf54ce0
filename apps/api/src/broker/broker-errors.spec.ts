import * as broker from '@dbaas/broker';
import {
  AsyncRequiredError,
  BrokerRequestError,
  BrokerResourceConflictError,
  BrokerResourceGoneError,
  BrokerResourceNotFoundError,
  failureText,
  InstanceProtectedError,
  InvalidBrokerRequestError,
  isRefusal,
  MaintenanceInfoConflictError,
  OperationInProgressError,
} from '@dbaas/broker';
import {
  ConflictError,
  EngineUnavailableError,
  ForbiddenError,
  NoCapacityError,
  NotFoundError,
  TooManyRequestsError,
  ValidationFailedError,
} from '@dbaas/core';
import { EngineCommandError } from '@dbaas/engines';
import { NotFoundException } from '@nestjs/common';
import { codeFor, toBrokerError } from './broker-errors';

describe('toBrokerError: the OSB error body', () => {
  it('maps domain errors with the statuses of /api, in the OSB format', () => {
    expect(toBrokerError(new ConflictError('taken')).body()).toEqual({
      error: 'Conflict',
      description: 'taken',
    });
    expect(toBrokerError(new ConflictError('taken')).status).toBe(409);
    const unavailable = toBrokerError(new EngineUnavailableError('down', 10));
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers).toEqual({ 'Retry-After': '10' });
  });

  it('folds field errors into the description and hides unknown errors', () => {
    const invalid = toBrokerError(new ValidationFailedError({ name: ['is too long'] }));
    expect(invalid.status).toBe(400);
    expect(invalid.body()).toMatchObject({
      description: expect.stringContaining('name: is too long'),
    });
    const bug = toBrokerError(new Error('password=hunter2'));
    expect(bug.status).toBe(500);
    expect(JSON.stringify(bug.body())).not.toContain('hunter2');
    expect(toBrokerError(new NotFoundException('Cannot GET /v2/x')).body()).toMatchObject({
      description: 'No such route.',
    });
  });

  it('codes 5xx as InternalError except 502 and 503', () => {
    expect(codeFor(500)).toBe('InternalError');
    expect(codeFor(504)).toBe('InternalError');
    expect(codeFor(503)).toBe('ServiceUnavailable');
    expect(codeFor(422)).toBe('UnprocessableEntity');
  });
});

describe('toBrokerError: the broker lib’s refusals as OSB answers', () => {
  it('gives each refusal its status and error code, with its message as the description', () => {
    const answers = [
      new InvalidBrokerRequestError('bad'),
      new BrokerResourceNotFoundError('absent'),
      new BrokerResourceConflictError('other attributes'),
      new BrokerResourceGoneError('gone'),
      new OperationInProgressError('busy'),
      new AsyncRequiredError('async'),
      new MaintenanceInfoConflictError('no maintenance_info'),
      new InstanceProtectedError('protected'),
    ].map((error) => {
      const answer = toBrokerError(error);
      return [answer.status, answer.code, answer.description];
    });
    expect(answers).toEqual([
      [400, 'BadRequest', 'bad'],
      [404, 'NotFound', 'absent'],
      [409, 'Conflict', 'other attributes'],
      [410, 'Gone', 'gone'],
      [422, 'ConcurrencyError', 'busy'],
      [422, 'AsyncRequired', 'async'],
      [422, 'MaintenanceInfoConflict', 'no maintenance_info'],
      [422, 'UnprocessableEntity', 'protected'],
    ]);
  });

  it('answers Gone with an empty body, the others with {error, description}', () => {
    expect(toBrokerError(new BrokerResourceGoneError('gone')).body()).toEqual({});
    expect(toBrokerError(new OperationInProgressError('busy')).body()).toEqual({
      error: 'ConcurrencyError',
      description: 'busy',
    });
  });

  it('maps every refusal the broker lib exports (none falls through to a 500)', () => {
    const kinds = Object.values(broker as Record<string, unknown>).filter(
      (value): value is new (message: string) => Error =>
        typeof value === 'function' && value.prototype instanceof BrokerRequestError,
    );
    expect(kinds.length).toBeGreaterThanOrEqual(7);
    for (const kind of kinds) {
      const answer = toBrokerError(new kind('x'));
      expect([kind.name, answer.status < 500]).toEqual([kind.name, true]);
    }
  });
});

describe('the broker lib’s failure words agree with the API’s answers', () => {
  const samples: unknown[] = [
    new ConflictError('taken'),
    new NotFoundError('database', 3),
    new ForbiddenError(),
    new ValidationFailedError({ name: ['is too long'] }),
    new TooManyRequestsError('slow down', 5),
    new EngineUnavailableError('postgresql at h:1 is unavailable: refused', 10),
    new NoCapacityError('full'),
    new EngineCommandError('postgresql', 'syntax error near password=hunter2'),
    new Error('password=hunter2'),
    new OperationInProgressError('busy'),
  ];

  it('a refusal is what the API answers with a 4xx; the rest is a failure', () => {
    for (const error of samples) {
      expect([String(error), isRefusal(error)]).toEqual([
        String(error),
        toBrokerError(error).status < 500,
      ]);
    }
  });

  it('the words recorded on a failed instance are the description the API gives', () => {
    for (const error of samples) {
      expect(failureText(error)).toBe(toBrokerError(error).description);
    }
    expect(failureText(new Error('password=hunter2'))).not.toContain('hunter2');
  });
});
