import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { sendBrokerError } from '../broker/broker-errors';
import { ReplayedAnswer } from '../idempotency/idempotency.service';
import { engineErrorForViewer, viewerOf } from './engine-error-visibility';
import { Problem, toProblem } from './problem';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Writes a problem as the response. Shared by the Nest filter and Fastify's error handler. */
export function sendProblem(reply: FastifyReply, problem: Problem): void {
  const { headers, ...body } = problem;
  void reply.status(body.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(body);
}

const logger = new Logger('Problem');

/** Logs server-side failures; the client only ever sees the generic problem. */
export function logProblem(problem: Problem, error: unknown, request: FastifyRequest): void {
  if (problem.status >= 500) {
    const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
    logger.error(`${request.method} ${request.url.split('?')[0]} failed: ${reason}`);
  }
}

/** Paths of the Open Service Broker API, whose errors have their own format. */
export function isBrokerPath(url: string): boolean {
  return /^\/v2(?:[/?#]|$)/.test(url);
}

/**
 * Any error, answered in the format of the path: the broker's `{error, description}` under
 * /v2, problem+json everywhere else. Also for errors raised before a route runs (Fastify's
 * router, body parsers and hooks).
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): void {
  if (isBrokerPath(request.url)) return sendBrokerError(request, reply, error);
  const problem = toProblem(engineErrorForViewer(error, viewerOf(request)));
  logProblem(problem, error, request);
  sendProblem(reply, problem);
}

/** Every error becomes RFC 9457 application/problem+json (the broker's format on /v2); never a stack trace. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    if (error instanceof ReplayedAnswer) {
      const { status, body, headers } = error.answer;
      const type = status >= 400 ? PROBLEM_CONTENT_TYPE : 'application/json';
      void http
        .getResponse<FastifyReply>()
        .status(status)
        .headers({ ...headers, 'Idempotent-Replayed': 'true' })
        .type(type)
        .send(body);
      return;
    }
    sendError(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), error);
  }
}
