/**
 * In-process mutual exclusion per key: callers with the same key go one at a time, in
 * arrival order. Waiting holds no database connection.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  isHeld(key: string): boolean {
    return this.tails.has(key);
  }

  /**
   * Queues at once (the key is held from this call on), resolves when it is this caller's
   * turn, with the function that lets the next one in.
   */
  enter(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    return previous.then(() => leave);
  }

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const leave = await this.enter(key);
    try {
      return await work();
    } finally {
      leave();
    }
  }
}

/** At most `limit` holders at once; the others wait in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** True when a new holder would have to wait. */
  isFull(): boolean {
    return this.active >= this.limit;
  }

  /** Resolves once a place is free, with the function that gives it up. */
  async enter(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    return this.leaver();
  }

  /**
   * Takes a place at once (synchronously: no other caller can take it in between), with
   * the function that gives it up, or returns null when none is free. Never waits.
   */
  tryEnter(): (() => void) | null {
    if (this.active >= this.limit) return null;
    this.active++;
    return this.leaver();
  }

  private leaver(): () => void {
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const leave = await this.enter();
    try {
      return await work();
    } finally {
      leave();
    }
  }
}
