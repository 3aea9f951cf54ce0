import { applyDecorators, createParamDecorator, ExecutionContext, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ApiSecurity } from '@nestjs/swagger';
import { BASIC_SECURITY_SCHEME } from './auth.constants';
import { AuthenticatedUser } from './authenticated-user';

/** Requires a valid Basic login and documents the security scheme, in one decorator. */
export function Authenticated(): ClassDecorator & MethodDecorator {
  return applyDecorators(UseGuards(AuthGuard('basic')), ApiSecurity(BASIC_SECURITY_SCHEME));
}

/** The caller, as set by the Basic strategy. */
export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedUser =>
    context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user,
);
