import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ByteQueue } from '@dbaas/engines';
import { BackupCorruptError } from './backup-errors';
import { DecryptStream, headerFor } from './encryption/decrypt-stream';
import { EncryptStream } from './encryption/encrypt-stream';
import { BackupKey } from './encryption/backup-key';
import { HEADER_LENGTH } from './encryption/sealed-format';
import { BackupStorage } from './storage/backup-storage';
import { Sha256Check } from './streams/sha256-check';
import { StreamMeter } from './streams/stream-meter';

/** What the backup record keeps of a stored file. */
export interface SavedBackupFile {
  /** Bytes stored (sealed): what the storage holds. */
  sizeInBytes: number;
  /** SHA-256 (hex) of the stored bytes. */
  sha256: string;
}

/**
 * Backup files as the operations see them: plaintext in and out, sealed (AES-256-GCM in
 * chunks) and hashed on the way, stored by the configured storage. Nothing holds a whole
 * file: each step streams, with backpressure from the storage down to the dump tool.
 */
export class BackupFiles {
  constructor(
    private readonly storage: BackupStorage,
    private readonly key: BackupKey,
  ) {}

  get location(): string {
    return this.storage.location;
  }

  /**
   * Stores what `produce` writes (a dump tool writing its dump) under `fileKey`. When
   * anything fails (the tool, the sealing, the storage), nothing is left under the key and
   * the first cause is thrown. `onProgress`, when given, is told the bytes sealed so far
   * every `progressMs` while it runs.
   */
  async save(
    fileKey: string,
    produce: (out: Writable) => Promise<void>,
    onProgress?: (sealedBytes: number) => void,
    progressMs = 2000,
  ): Promise<SavedBackupFile> {
    const encrypt = new EncryptStream(this.key);
    const meter = new StreamMeter();
    const sealing = pipeline(encrypt, meter);
    const storing = this.storage.write(fileKey, meter);
    const producing = produce(encrypt).catch((error: Error) => {
      encrypt.destroy(error);
      throw error;
    });
    const timer = onProgress && setInterval(() => onProgress(meter.bytes), progressMs);
    timer?.unref();
    const [produced, sealed, stored] = await Promise.allSettled([
      producing,
      sealing,
      storing,
    ]).finally(() => clearInterval(timer));
    const failure = [produced, stored, sealed].find((result) => result.status === 'rejected');
    if (failure) {
      if (stored.status === 'fulfilled') await this.storage.delete(fileKey);
      throw failure.reason;
    }
    return { sizeInBytes: meter.bytes, sha256: meter.sha256() };
  }

  /**
   * The plaintext of a stored file, as a stream for a restore tool. It ends only if every
   * chunk authenticated and the stored bytes hash to `sha256`; otherwise it fails with a
   * BackupCorruptError (BackupFileNotFoundError when there is no file).
   */
  async open(fileKey: string, sha256: string): Promise<Readable> {
    const stored = await this.storage.read(fileKey);
    const decrypt = new DecryptStream(this.key);
    // Errors reach the reader: pipeline destroys `decrypt` with them.
    pipeline(stored, new Sha256Check(sha256), decrypt).catch(() => undefined);
    return decrypt;
  }

  /**
   * Reads a whole stored file and checks it before anything used a byte of it: its bytes
   * hash to the SHA-256 recorded when this server sealed them (so every chunk is as sealed,
   * and will authenticate), and its header names this server's key (so every chunk will
   * open). Throws the BackupCorruptError `open`'s stream would; it decrypts nothing.
   */
  async verify(fileKey: string, sha256: string): Promise<void> {
    const stored = await this.storage.read(fileKey);
    const header = new ByteQueue();
    const keep = new Writable({
      write: (chunk: Buffer, _encoding, next) => {
        if (header.length < HEADER_LENGTH) header.push(chunk);
        next();
      },
    });
    await pipeline(stored, new Sha256Check(sha256), keep);
    if (header.length < HEADER_LENGTH)
      throw new BackupCorruptError('Backup file is truncated: no header');
    headerFor(this.key, header.take(HEADER_LENGTH));
  }

  delete(fileKey: string): Promise<void> {
    return this.storage.delete(fileKey);
  }

  /** The file and what a write of it cut short by a killed process left. */
  async remove(fileKey: string): Promise<void> {
    await this.storage.delete(fileKey);
    await this.storage.removeLeftovers(fileKey);
  }

  exists(fileKey: string): Promise<boolean> {
    return this.storage.exists(fileKey);
  }
}
