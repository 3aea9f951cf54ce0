import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/** Passes bytes through unchanged, counting them and computing their SHA-256 on the way. */
export class StreamMeter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  private hex?: string;

  get bytes(): number {
    return this.count;
  }

  /** The SHA-256 (hex) of every byte that went through; only once the stream has ended. */
  sha256(): string {
    if (this.hex === undefined) throw new Error('StreamMeter: the stream has not ended yet');
    return this.hex;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.hex = this.hash.digest('hex');
    done();
  }
}
