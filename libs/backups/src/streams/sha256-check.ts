import { createHash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { BackupCorruptError } from '../backup-errors';

/**
 * Passes bytes through and, at the end, fails instead of ending when their SHA-256 is not
 * the one recorded: catches a stored file replaced by another (even a well-sealed one).
 */
export class Sha256Check extends Transform {
  private readonly hash = createHash('sha256');

  constructor(private readonly expected: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const actual = this.hash.digest('hex');
    if (actual === this.expected.toLowerCase()) return done();
    done(
      new BackupCorruptError(
        `Backup file does not match its recorded SHA-256 (${actual}, expected ${this.expected}): it was altered or replaced`,
      ),
    );
  }
}
