import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makePrivateDir, PRIVATE_FILE_MODE } from '@dbaas/core';
import { BackupFileNotFoundError } from '../backup-errors';
import { BackupStorage } from './backup-storage';
import { assertStorageKey, assertStoragePrefix } from './storage-key';

/** What a write in progress is named: hidden, and never a valid key. */
const PARTIAL = /^\..*\.partial$/;

/**
 * Backup files in a local folder (`DBAAS_BACKUP_DIR`): folders 0700, files 0600. A file is
 * written under a hidden temporary name, flushed to disk, then renamed to its key, so a
 * write that fails or a process that is killed never leaves a file that looks finished
 * (only a `.<name>.<random>.partial`, which `removePartials` clears).
 */
export class LocalDirStorage implements BackupStorage {
  constructor(private readonly dir: string) {}

  get location(): string {
    return this.dir;
  }

  async write(key: string, source: Readable): Promise<{ sizeInBytes: number }> {
    const path = this.pathOf(key);
    makePrivateDir(this.dir);
    makePrivateDir(dirname(path));
    const partial = join(
      dirname(path),
      `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`,
    );
    try {
      await pipeline(source, createWriteStream(partial, { flags: 'wx', mode: PRIVATE_FILE_MODE }));
      await flushToDisk(partial);
      const { size } = await stat(partial);
      await rename(partial, path);
      return { sizeInBytes: size };
    } catch (error) {
      source.destroy();
      await rm(partial, { force: true });
      throw error;
    }
  }

  async read(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    const file = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new BackupFileNotFoundError(key) : error;
    });
    return file.createReadStream({ highWaterMark: 256 * 1024 });
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async removeLeftovers(key: string): Promise<void> {
    const path = this.pathOf(key);
    const start = `.${basename(path)}.`;
    const entries = await readdir(dirname(path)).catch(() => [] as string[]);
    for (const name of entries) {
      if (name.startsWith(start) && PARTIAL.test(name))
        await rm(join(dirname(path), name), { force: true });
    }
  }

  async exists(key: string): Promise<boolean> {
    const found = await stat(this.pathOf(key)).catch(() => null);
    return found?.isFile() ?? false;
  }

  async list(prefix: string): Promise<string[]> {
    const folder = join(this.dir, assertStoragePrefix(prefix));
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        if (entry.isDirectory()) await walk(join(dir, entry.name), `${keyPrefix}${entry.name}/`);
        else if (entry.isFile()) keys.push(`${keyPrefix}${entry.name}`);
      }
    };
    await walk(folder, prefix);
    return keys.sort();
  }

  /**
   * Removes what writes cut short by a killed process left, when older than `olderThanMs`
   * (a younger one may belong to a write still running); returns how many.
   */
  async removePartials(olderThanMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (PARTIAL.test(entry.name)) {
          const found = await stat(path).catch(() => null);
          if (found && now - found.mtimeMs > olderThanMs) {
            await unlink(path).catch(() => undefined);
            removed++;
          }
        }
      }
    };
    await walk(this.dir);
    return removed;
  }

  private pathOf(key: string): string {
    return join(this.dir, assertStorageKey(key));
  }
}

/** Waits until the file's bytes are on disk, so the rename never publishes a hollow file. */
async function flushToDisk(path: string): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
}
