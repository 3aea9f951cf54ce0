import { applyDecorators, createParamDecorator, ExecutionContext, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ApiSecurity } from '@nestjs/swagger';
import { BASIC_SECURITY_SCHEME } from './auth.constants';
import { AuthenticatedUser } from './authenticated-user';

/** Requires a valid Basic login and documents the security scheme, in one decorator. */
export function Authenticated(): ClassDecorator & MethodDecorator {
  return applyDecorators(UseGuards(AuthGuard('basic')), ApiSecurity(BASIC_SECURITY_SCHEME));
}

/**
 * The Basic strategy, but a missing or wrong login is no error: the route runs for an
 * anonymous caller (`CurrentUser` is then undefined). Failed logins still count towards
 * the login throttle, which is inside the strategy.
 */
class OptionalBasicGuard extends AuthGuard('basic') {
  override handleRequest<TUser>(_error: unknown, user: TUser | false): TUser {
    return (user || undefined) as TUser;
  }
}

/** A route that answers anyone, and says more to some callers (e.g. dba-only fields). */
export function OptionalLogin(): ClassDecorator & MethodDecorator {
  return UseGuards(OptionalBasicGuard);
}

/** The caller, as set by the Basic strategy. */
export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedUser =>
    context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user,
);
