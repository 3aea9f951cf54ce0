import { AuthenticatedUser } from '@dbaas/auth';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { BrokerError } from './broker-errors';

/** The oldest Open Service Broker API version this broker accepts, and the one it implements. */
export const MIN_BROKER_API_VERSION = { major: 2, minor: 13 };
export const BROKER_API_VERSION = '2.17';
export const VERSION_HEADER = 'x-broker-api-version';
export const REQUEST_IDENTITY_HEADER = 'x-broker-api-request-identity';

/** Who may call the broker API: platforms (role `broker`) and dbas. */
export const BROKER_ROLES: readonly string[] = ['broker', 'dba'];

/** Whether a `MAJOR.MINOR` version header is one this broker serves. */
export function isSupportedVersion(header: string | undefined): boolean {
  const match = /^\s*(\d+)\.(\d+)\s*$/.exec(header ?? '');
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major === MIN_BROKER_API_VERSION.major && minor >= MIN_BROKER_API_VERSION.minor;
}

/**
 * Runs after the Basic login guard: only `broker` and `dba` users pass (403 otherwise),
 * then the `X-Broker-API-Version` header must say 2.13 or later (412). The platform's
 * request identity is echoed back, as the spec recommends.
 */
@Injectable()
export class BrokerGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: AuthenticatedUser }>();
    const identity = request.headers[REQUEST_IDENTITY_HEADER];
    if (typeof identity === 'string' && identity.length <= 500) {
      void http.getResponse<FastifyReply>().header('X-Broker-API-Request-Identity', identity);
    }
    if (!request.user || !BROKER_ROLES.includes(request.user.role)) {
      throw new BrokerError(
        403,
        'Forbidden',
        'Only users with the broker or dba role may use the Open Service Broker API.',
      );
    }
    const version = request.headers[VERSION_HEADER];
    if (!isSupportedVersion(typeof version === 'string' ? version : undefined)) {
      throw new BrokerError(
        412,
        'PreconditionFailed',
        `The X-Broker-API-Version header is required, and must be ${MIN_BROKER_API_VERSION.major}.${MIN_BROKER_API_VERSION.minor} or later (this broker implements ${BROKER_API_VERSION}).`,
      );
    }
    return true;
  }
}
