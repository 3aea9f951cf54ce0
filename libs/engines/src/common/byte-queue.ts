/**
 * Bytes waiting to be cut into pieces of a fixed size: appended as they arrive, taken from
 * the front. Copies only what it takes, so small writes do not make it quadratic.
 */
export class ByteQueue {
  private parts: Buffer[] = [];
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.total += bytes.length;
  }

  /** The first `count` bytes (or all of them when fewer), removed from the queue. */
  take(count: number): Buffer {
    const wanted = Math.min(count, this.total);
    if (this.parts.length > 0 && this.parts[0].length === wanted) {
      this.total -= wanted;
      return this.parts.shift()!;
    }
    const out = Buffer.allocUnsafe(wanted);
    let filled = 0;
    while (filled < wanted) {
      const head = this.parts[0];
      const used = Math.min(head.length, wanted - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(used);
    }
    this.total -= wanted;
    return out;
  }
}
