import { TooManyRequestsError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { BasicStrategy as PassportBasicStrategy } from 'passport-http';
import { AuthService } from './auth.service';
import { AuthenticatedUser } from './authenticated-user';
import { BASIC_REALM } from './auth.constants';
import { LoginThrottle } from './login-throttle';

@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasicStrategy, 'basic') {
  private readonly throttle = new LoginThrottle();

  constructor(private readonly auth: AuthService) {
    super({ realm: BASIC_REALM, passReqToCallback: true });
  }

  /** Returning false makes passport answer 401 (the problem filter adds the challenge); a throttled pair gets 429. */
  async validate(request: { ip?: string }, username: string, password: string): Promise<AuthenticatedUser | false> {
    // Nothing the store could choke on reaches it: such a login is simply wrong.
    if (username.length > 200 || password.length > 1000 || (username + password).includes('\u0000')) return false;
    const address = request.ip ?? 'unknown';
    const wait = this.throttle.retryAfterSeconds(username, address);
    if (wait > 0) throw new TooManyRequestsError('Too many failed logins: try again later.', wait);
    const user = await this.auth.verify(username, password);
    if (user) this.throttle.succeeded(username, address);
    else this.throttle.failed(username, address);
    return user ?? false;
  }
}
