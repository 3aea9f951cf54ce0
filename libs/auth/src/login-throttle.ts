/** Failed logins allowed per user name and address within the window. */
export const MAX_FAILURES = 5;
export const FAILURE_WINDOW_MS = 60_000;
/** How long a throttled pair waits. */
export const LOCKOUT_MS = 60_000;
const MAX_TRACKED = 50_000;

interface Entry {
  failures: number;
  firstAt: number;
  lockedUntil: number;
}

/**
 * Slows down password guessing: after MAX_FAILURES wrong logins for one user name from
 * one address within a minute, that pair is refused (429) for a minute, right or wrong
 * password, without spending scrypt work. A success clears the count. Kept in memory,
 * per process, bounded.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Seconds to wait, or 0 when the pair may try. */
  retryAfterSeconds(username: string, address: string): number {
    const entry = this.entries.get(key(username, address));
    const wait = entry ? entry.lockedUntil - this.now() : 0;
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  failed(username: string, address: string): void {
    const k = key(username, address);
    const now = this.now();
    let entry = this.entries.get(k);
    if (!entry || now - entry.firstAt > FAILURE_WINDOW_MS) {
      entry = { failures: 0, firstAt: now, lockedUntil: 0 };
      if (this.entries.size >= MAX_TRACKED) this.entries.delete(this.entries.keys().next().value!);
    }
    entry.failures++;
    if (entry.failures >= MAX_FAILURES) entry.lockedUntil = now + LOCKOUT_MS;
    this.entries.delete(k);
    this.entries.set(k, entry);
  }

  succeeded(username: string, address: string): void {
    this.entries.delete(key(username, address));
  }
}

const key = (username: string, address: string) => `${address}\u0000${username}`;
