import { hkdfSync } from 'node:crypto';

/** Labels of the keys derived from the app's secret key: each use gets a key of its own. */
const ENCRYPTION_LABEL = 'dbaas backup encryption v1';
const KEY_ID_LABEL = 'dbaas backup key id v1';
const FILE_KEY_LABEL = 'dbaas backup file key v1';

/**
 * The key that seals backup files, derived with HKDF-SHA256 from the app's secret key
 * (`DBAAS_SECRET_KEY` or the embedded store's generated key) under a label of its own, so
 * it is never the key that seals the stored passwords. Its id, a one-way fingerprint,
 * goes into each file's header: a file sealed under another secret key is named as such.
 */
export class BackupKey {
  /** 8 bytes, safe to show: it reveals nothing of the key. */
  readonly id: Buffer;
  private readonly key: Buffer;

  private constructor(secretKey: Buffer) {
    if (secretKey.length !== 32) throw new Error('BackupKey needs the 32-byte secret key');
    this.key = derive(secretKey, Buffer.alloc(0), ENCRYPTION_LABEL, 32);
    this.id = derive(secretKey, Buffer.alloc(0), KEY_ID_LABEL, 8);
  }

  static fromSecretKey(secretKey: Buffer): BackupKey {
    return new BackupKey(secretKey);
  }

  /** The AES-256 key of one file, from its random salt: no two files share a key. */
  fileKey(salt: Buffer): Buffer {
    return derive(this.key, salt, FILE_KEY_LABEL, 32);
  }
}

function derive(key: Buffer, salt: Buffer, label: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, label, length));
}
