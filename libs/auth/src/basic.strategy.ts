import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { BasicStrategy as PassportBasicStrategy } from 'passport-http';
import { AuthService } from './auth.service';
import { AuthenticatedUser } from './authenticated-user';
import { BASIC_REALM } from './auth.constants';

@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasicStrategy, 'basic') {
  constructor(private readonly auth: AuthService) {
    super({ realm: BASIC_REALM });
  }

  /** Returning false makes passport answer 401; the problem filter adds the challenge. */
  async validate(username: string, password: string): Promise<AuthenticatedUser | false> {
    return (await this.auth.verify(username, password)) ?? false;
  }
}
