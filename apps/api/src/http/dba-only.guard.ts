import { AccessPolicy, AuthenticatedUser } from '@dbaas/auth';
import {
  applyDecorators,
  CanActivate,
  ExecutionContext,
  Injectable,
  UseGuards,
} from '@nestjs/common';

/** Runs after the class-level Basic guard: only a dba passes, others get 403. */
@Injectable()
export class DbaGuard implements CanActivate {
  constructor(private readonly policy: AccessPolicy) {}

  canActivate(context: ExecutionContext): boolean {
    const { user } = context.switchToHttp().getRequest<{ user: AuthenticatedUser }>();
    this.policy.assertDba(user, 'change this');
    return true;
  }
}

export const DbaOnly = () => applyDecorators(UseGuards(DbaGuard));
