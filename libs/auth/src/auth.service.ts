import { PasswordHasher } from '@dbaas/core';
import { jsonColumn, Role, UserEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuthenticatedUser } from './authenticated-user';
import { LoginCache } from './login-cache';

// Compared against when the user does not exist, so that a missing user costs the same
// scrypt work as a wrong password and user names cannot be probed by timing.
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

interface LoginRow {
  id: number;
  username: string;
  role: Role;
  password_hash: string;
  team_ids: number[] | null;
}

@Injectable()
export class AuthService {
  /** Verified logins for 60 s: scrypt is slow on purpose, and Basic auth repeats it per request. */
  private readonly logins = new LoginCache({ ttlMs: 60_000, maxEntries: 10_000 });

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly hasher: PasswordHasher,
  ) {}

  /** The user for this login, or null for any kind of wrong login. */
  async verify(username: string, password: string): Promise<AuthenticatedUser | null> {
    // Every request runs this: one hand-written query (user, hash and team ids), no builder.
    const [user] = await this.users.query<LoginRow[]>(
      `SELECT u.id, u.username, u.role, u.password_hash,
              (SELECT json_agg(tu.team_id ORDER BY tu.team_id) FROM team_user tu WHERE tu.user_id = u.id) AS team_ids
         FROM "user" u
        WHERE u.username = $1`,
      [username],
    );
    const ok = user
      ? await this.logins.check(username, password, user.password_hash, () =>
          this.hasher.verify(password, user.password_hash),
        )
      : await this.hasher.verify(password, DUMMY_HASH);
    if (!user || !ok) return null;
    return {
      id: Number(user.id),
      username: user.username,
      role: user.role,
      teamIds: jsonColumn<number[]>(user.team_ids, []).map(Number),
    };
  }

  /** Drops the user's remembered login: their password changed, or they are gone. */
  forget(username: string): void {
    this.logins.forget(username);
  }
}
