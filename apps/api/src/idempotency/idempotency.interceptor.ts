import { AuthenticatedUser } from '@dbaas/auth';
import {
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Injectable,
  NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, Observable } from 'rxjs';
import { toProblem } from '../http/problem';
import { IdempotencyService } from './idempotency.service';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Applies IdempotencyService to every authenticated POST that carries the header. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly keys: IdempotencyService,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: AuthenticatedUser }>();
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (request.method !== 'POST' || header === undefined || !request.user) return next.handle();
    return from(this.handle(context, next, request, String(header)));
  }

  private async handle(
    context: ExecutionContext,
    next: CallHandler,
    request: FastifyRequest & { user?: AuthenticatedUser },
    key: string,
  ): Promise<unknown> {
    this.keys.validateKey(key);
    const path = request.url.split('?')[0];
    const claim = await this.keys.claim(
      request.user!.id,
      key,
      this.keys.fingerprint(request.method, path, request.body),
    );
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    try {
      const body: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
      // A handler that answers 202 on its own (a create with `from_backup`) is replayed so.
      const status =
        reply.statusCode === 202
          ? HttpStatus.ACCEPTED
          : (this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ??
            HttpStatus.CREATED);
      const location = reply.getHeader('location');
      await this.keys.complete(claim, {
        status,
        body,
        headers: location ? { Location: String(location) } : {},
      });
      return body;
    } catch (error) {
      const problem = toProblem(error);
      if (problem.status >= 500) await this.keys.release(claim).catch(() => undefined);
      else {
        const { headers, ...body } = problem;
        await this.keys.complete(claim, { status: problem.status, body, headers });
      }
      throw error;
    }
  }
}
