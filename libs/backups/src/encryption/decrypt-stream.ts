import { createDecipheriv } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { BackupCorruptError } from '../backup-errors';
import { ByteQueue } from '@dbaas/engines';
import { BackupKey } from './backup-key';
import {
  chunkAad,
  chunkNonce,
  HEADER_LENGTH,
  parseHeader,
  SealedHeader,
  TAG_LENGTH,
} from './sealed-format';

/**
 * A sealed backup file in, its plaintext out. Only authenticated bytes leave: each chunk
 * is released once its tag checks, and a file that is altered, cut short, reordered or
 * sealed under another key ends in a BackupCorruptError instead of an end.
 */
export class DecryptStream extends Transform {
  private readonly pending = new ByteQueue();
  private header?: SealedHeader;
  private fileKey?: Buffer;
  private index = 0;

  constructor(private readonly key: BackupKey) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.pending.push(chunk);
      if (!this.header && this.pending.length >= HEADER_LENGTH) {
        this.readHeader(this.pending.take(HEADER_LENGTH));
      }
      if (this.header) {
        const sealedChunk = this.header.chunkSize + TAG_LENGTH;
        while (this.pending.length > sealedChunk) this.open(this.pending.take(sealedChunk), false);
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.header) throw new BackupCorruptError('Backup file is truncated: no header');
      if (this.pending.length < TAG_LENGTH) throw this.truncated();
      this.open(this.pending.take(this.pending.length), true);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  private readHeader(bytes: Buffer): void {
    const header = headerFor(this.key, bytes);
    this.header = header;
    this.fileKey = this.key.fileKey(header.salt);
  }

  private open(sealed: Buffer, final: boolean): void {
    const plaintext = this.tryOpen(sealed, final);
    if (plaintext) {
      this.push(plaintext);
      this.index++;
      return;
    }
    // Only to name the failure: a full chunk that opens as a middle one means the end is gone.
    if (final && this.tryOpen(sealed, false)) {
      this.index++;
      throw this.truncated();
    }
    throw new BackupCorruptError(
      `Backup file chunk ${this.index} fails authentication: the file was altered, reordered or cut`,
    );
  }

  private truncated(): BackupCorruptError {
    const where = this.index === 0 ? 'its header' : `chunk ${this.index - 1}`;
    return new BackupCorruptError(
      `Backup file is truncated: it ends after ${where}, not at its final chunk`,
    );
  }

  private tryOpen(sealed: Buffer, final: boolean): Buffer | null {
    const header = this.header!;
    const ciphertext = sealed.subarray(0, sealed.length - TAG_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', this.fileKey!, chunkNonce(header, this.index));
    decipher.setAAD(chunkAad(header, this.index, final));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    const plaintext = decipher.update(ciphertext);
    try {
      decipher.final();
      return plaintext;
    } catch {
      return null;
    }
  }
}

/**
 * A sealed file's header, parsed, when it names `key`: otherwise a BackupCorruptError that
 * says the file was sealed with another key.
 */
export function headerFor(key: BackupKey, bytes: Buffer): SealedHeader {
  const header = parseHeader(bytes);
  if (!header.keyId.equals(key.id)) {
    throw new BackupCorruptError(
      `Backup file was sealed with another key (key id ${header.keyId.toString('hex')}, ` +
        `this server's is ${key.id.toString('hex')}): was DBAAS_SECRET_KEY changed?`,
    );
  }
  return header;
}
