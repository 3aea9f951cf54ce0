import { TooManyRequestsError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { StrategyCreatedStatic } from 'passport';
import { BasicStrategy as PassportBasicStrategy } from 'passport-http';
import { AuthService } from './auth.service';
import { AuthenticatedUser } from './authenticated-user';
import { BASIC_REALM } from './auth.constants';
import { LoginThrottle } from './login-throttle';

/** What the strategy reads of a request. */
interface BasicRequest {
  ip?: string;
  headers?: { authorization?: string };
}

@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasicStrategy, 'basic') {
  private readonly throttle = new LoginThrottle();

  constructor(private readonly auth: AuthService) {
    super({ realm: BASIC_REALM, passReqToCallback: true });
  }

  /**
   * The Basic header, parsed as RFC 7617 says: the scheme is exactly `Basic` (any case), the user id ends at the first colon, the
   * password is everything after it (passport-http splits at every colon, so a password
   * with one was cut short; and its `new Buffer` makes Node walk the stack on every
   * request). Otherwise passport-http's own rules: no header or another scheme is a
   * challenge, a header without credentials or without a colon is a 400 failure, an empty
   * user id or password is a challenge. Each failure ends as a 401 problem.
   */
  override authenticate(request: BasicRequest): void {
    // Passport gives a strategy these verbs for the request it authenticates.
    const passport = this as unknown as Pick<StrategyCreatedStatic, 'success' | 'fail' | 'error'>;
    const header = request.headers?.authorization;
    if (!header) return passport.fail(this.challenge(), 401);
    const [scheme, token] = header.split(' ');
    if (token === undefined) return passport.fail(400);
    if (scheme.toLowerCase() !== 'basic') return passport.fail(this.challenge(), 401);
    const decoded = Buffer.from(token, 'base64').toString();
    const colon = decoded.indexOf(':');
    if (colon < 0) return passport.fail(400);
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (!username || !password) return passport.fail(this.challenge(), 401);
    this.validate(request, username, password).then(
      (user) => (user ? passport.success(user) : passport.fail(this.challenge(), 401)),
      (failure: unknown) => passport.error(failure as Error),
    );
  }

  private challenge(): string {
    return `Basic realm="${BASIC_REALM}"`;
  }

  /** Returning false makes passport answer 401 (the problem filter adds the challenge); a throttled pair gets 429. */
  async validate(
    request: { ip?: string },
    username: string,
    password: string,
  ): Promise<AuthenticatedUser | false> {
    // Nothing the store could choke on reaches it: such a login is simply wrong.
    if (username.length > 200 || password.length > 1000 || (username + password).includes('\u0000'))
      return false;
    const address = request.ip ?? 'unknown';
    const wait = this.throttle.retryAfterSeconds(username, address);
    if (wait > 0) throw new TooManyRequestsError('Too many failed logins: try again later.', wait);
    const user = await this.auth.verify(username, password);
    if (user) this.throttle.succeeded(username, address);
    else this.throttle.failed(username, address);
    return user ?? false;
  }
}
