import { PasswordHasher } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { AuthenticatedUser } from './authenticated-user';
import { LoginCache } from './login-cache';
import { UserRepository } from './user.repository';

// Compared against when the user does not exist, so that a missing user costs the same
// scrypt work as a wrong password and user names cannot be probed by timing.
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

@Injectable()
export class AuthService {
  /** Verified logins for 60 s: scrypt is slow on purpose, and Basic auth repeats it per request. */
  private readonly logins = new LoginCache({ ttlMs: 60_000, maxEntries: 10_000 });

  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  /** The user for this login, or null for any kind of wrong login. */
  async verify(username: string, password: string): Promise<AuthenticatedUser | null> {
    const user = await this.users.findLogin(username);
    const ok = user
      ? await this.logins.check(username, password, user.passwordHash, () =>
          this.hasher.verify(password, user.passwordHash),
        )
      : await this.hasher.verify(password, DUMMY_HASH);
    if (!user || !ok) return null;
    return { id: user.id, username: user.username, role: user.role, teamIds: user.teamIds };
  }

  /** Drops the user's remembered login: their password changed, or they are gone. */
  forget(username: string): void {
    this.logins.forget(username);
  }
}
