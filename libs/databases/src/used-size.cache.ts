interface Entry {
  /** The last measured size; null when the engine never said. */
  bytes: number | null;
  at: number;
}

/**
 * Used sizes are "not realtime information" (the seed): measured on the engine, kept
 * briefly, and never allowed to make a list fail or wait on a slow engine.
 *
 * A failed measurement is remembered for the same period as a successful one (keeping the
 * last known size, or null), so a database its engine cannot measure (engine down, database
 * missing) is not asked for again on every list.
 */
export class UsedSizeCache {
  private readonly entries = new Map<number, Entry>();
  private readonly inFlight = new Map<number, Promise<number | null>>();

  constructor(
    /** How long a measured size (or a failure) is served before the engine is asked again. */
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached size, or null when never measured. */
  peek(id: number): number | null {
    return this.entries.get(id)?.bytes ?? null;
  }

  /** Whether a measurement is older than the period (or missing), i.e. worth refreshing. */
  isStale(id: number): boolean {
    const entry = this.entries.get(id);
    return !entry || this.now() - entry.at >= this.ttlMs;
  }

  /** A fresh-enough size, measuring it if needed; null when the engine cannot say. */
  async get(id: number, measure: () => Promise<number>): Promise<number | null> {
    const entry = this.entries.get(id);
    if (entry && this.now() - entry.at < this.ttlMs) return entry.bytes;
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = measure().then(
        (bytes) => {
          this.entries.set(id, { bytes, at: this.now() });
          return bytes;
        },
        () => {
          const bytes = this.entries.get(id)?.bytes ?? null;
          if (this.ttlMs > 0) this.entries.set(id, { bytes, at: this.now() });
          return bytes;
        },
      );
      pending.finally(() => this.inFlight.delete(id)).catch(() => undefined);
      this.inFlight.set(id, pending);
    }
    return pending;
  }

  forget(id: number): void {
    this.entries.delete(id);
  }
}
