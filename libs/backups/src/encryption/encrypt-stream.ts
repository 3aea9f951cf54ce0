import { createCipheriv } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { ByteQueue } from '@dbaas/engines';
import { BackupKey } from './backup-key';
import {
  chunkAad,
  chunkNonce,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNKS,
  newHeader,
  SealedHeader,
} from './sealed-format';

/**
 * Plaintext in, a sealed backup file out (format in sealed-format.ts). Holds at most one
 * chunk and the bytes of one write: a chunk is sealed once a byte after it has arrived, so
 * the last one can be marked final when the input ends.
 */
export class EncryptStream extends Transform {
  private readonly header: SealedHeader;
  private readonly fileKey: Buffer;
  private readonly pending = new ByteQueue();
  private headerSent = false;
  private index = 0;

  constructor(key: BackupKey, options: { chunkSize?: number } = {}) {
    super();
    this.header = newHeader(key.id, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    this.fileKey = key.fileKey(this.header.salt);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.sendHeader();
      this.pending.push(chunk);
      while (this.pending.length > this.header.chunkSize) {
        this.seal(this.pending.take(this.header.chunkSize), false);
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.sendHeader();
      this.seal(this.pending.take(this.header.chunkSize), true);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.push(this.header.bytes);
  }

  private seal(plaintext: Buffer, final: boolean): void {
    if (this.index >= MAX_CHUNKS) throw new Error('Backup too large for one sealed file');
    const cipher = createCipheriv('aes-256-gcm', this.fileKey, chunkNonce(this.header, this.index));
    cipher.setAAD(chunkAad(this.header, this.index, final));
    this.push(cipher.update(plaintext));
    cipher.final();
    this.push(cipher.getAuthTag());
    this.index++;
  }
}
