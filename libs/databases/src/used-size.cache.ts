interface Entry {
  bytes: number;
  at: number;
}

/**
 * Used sizes are "not realtime information" (the seed): measured on the engine, kept
 * briefly, and never allowed to make a list fail or wait on a slow engine.
 */
export class UsedSizeCache {
  private readonly entries = new Map<number, Entry>();
  private readonly inFlight = new Map<number, Promise<number | null>>();

  constructor(
    /** How long a measured size is served before the engine is asked again. */
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached size, or null when never measured. */
  peek(id: number): number | null {
    return this.entries.get(id)?.bytes ?? null;
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
        () => entry?.bytes ?? null,
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
