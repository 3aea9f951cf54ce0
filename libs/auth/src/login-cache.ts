import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface LoginCacheOptions {
  /** How long a verified login is accepted without scrypt. */
  ttlMs?: number;
  /** At most this many users are remembered; the oldest entry goes first. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  mac: Buffer;
  expires: number;
}

/**
 * Remembers Basic logins that scrypt has verified, so that a client sending the same header
 * on every request pays the deliberate ~50 ms of scrypt once a minute instead of every time.
 *
 * Safe by construction:
 * - only a keyed hash is kept: HMAC-SHA256 under a random key made per process, over the
 *   user name, the password and the user's stored hash; no password is kept in memory;
 * - an entry is written only after a successful scrypt verify, and a wrong password is
 *   never remembered, so it always costs the full scrypt work;
 * - the stored hash is part of the HMAC: once the password changes (in this process, in
 *   another API instance or through the CLI) the old password no longer matches, even
 *   before `forget` runs or the entry expires;
 * - entries expire, and the map is bounded.
 *
 * Concurrent first logins with the same credentials share one scrypt run.
 */
export class LoginCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: LoginCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * True when this password is right for this user with this stored hash: from the cache
   * when a fresh entry matches, otherwise from `verify` (the scrypt check), whose success
   * is remembered.
   */
  async check(
    username: string,
    password: string,
    storedHash: string,
    verify: () => Promise<boolean>,
  ): Promise<boolean> {
    const mac = this.mac(username, password, storedHash);
    if (this.matches(username, mac)) return true;
    const flightKey = mac.toString('base64');
    let flight = this.pending.get(flightKey);
    if (!flight) {
      flight = verify().then((ok) => {
        if (ok) this.remember(username, mac);
        return ok;
      });
      const settled = flight.finally(() => this.pending.delete(flightKey));
      settled.catch(() => undefined);
      this.pending.set(flightKey, flight);
    }
    return flight;
  }

  /** Drops the user's entry: call it when the password changes or the user goes. */
  forget(username: string): void {
    this.entries.delete(username);
  }

  get size(): number {
    return this.entries.size;
  }

  private matches(username: string, mac: Buffer): boolean {
    const entry = this.entries.get(username);
    if (!entry) return false;
    if (entry.expires <= this.now()) {
      this.entries.delete(username);
      return false;
    }
    return timingSafeEqual(entry.mac, mac);
  }

  private remember(username: string, mac: Buffer): void {
    // Re-inserting moves the user to the newest end of the map's order.
    this.entries.delete(username);
    if (this.entries.size >= this.maxEntries) this.evict();
    this.entries.set(username, { mac, expires: this.now() + this.ttlMs });
  }

  /**
   * Entries are (re)inserted with the same TTL, so the map's order is also expiry order:
   * drop from the oldest end while entries are expired, then one more if still full.
   */
  private evict(): void {
    const now = this.now();
    for (const [username, entry] of this.entries) {
      if (entry.expires > now && this.entries.size < this.maxEntries) break;
      this.entries.delete(username);
      if (entry.expires > now) break;
    }
  }

  private mac(username: string, password: string, storedHash: string): Buffer {
    const hmac = createHmac('sha256', this.key);
    // Length-prefixed fields: no two different (user, password, hash) give the same input.
    for (const field of [username, storedHash, password]) {
      const bytes = Buffer.from(field, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      hmac.update(length).update(bytes);
    }
    return hmac.digest();
  }
}
