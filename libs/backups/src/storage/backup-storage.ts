import { Readable } from 'node:stream';

/**
 * Where sealed backup files live. Keys are relative paths of safe names
 * (`<environment>/<database>/<backup id>.dump`, see storage-key.ts). A file becomes visible
 * under its key only once it is complete: a write that fails or is killed leaves nothing
 * that `read`, `exists` or `list` would take for a finished file.
 */
export interface BackupStorage {
  /** Stores the stream's bytes under `key` (replacing any file there); resolves to their count. */
  write(key: string, source: Readable): Promise<{ sizeInBytes: number }>;
  /** The stored bytes as a stream; BackupFileNotFoundError when there is no such file. */
  read(key: string): Promise<Readable>;
  /** Removes the file; nothing happens when it is already gone. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /**
   * Removes what a write of `key` cut short by a killed process left (a partial file, an
   * incomplete multipart upload); the caller knows no write of `key` is running.
   */
  removeLeftovers(key: string): Promise<void>;
  /** The keys of the finished files under a folder prefix (`env/` or ''), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Where the files go, for logs and health (never a secret). */
  readonly location: string;
}
