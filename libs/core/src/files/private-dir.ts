import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Folders of the data folder: the owner alone may list and enter them. */
export const PRIVATE_DIR_MODE = 0o700;
/** Files of the data folder: the owner alone may read and write them. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) for its owner only. mkdir's mode is masked by the
 * umask, so the folder is set explicitly as well: the result never depends on the umask.
 */
export function makePrivateDir(dir: string): void {
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (created !== undefined) chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Sets every folder under `path` (itself included) to 0700 and every file to 0600 (0700 if
 * its owner may run it); returns how many entries it changed. Only entries this process's
 * user owns are changed: another user's files are not ours to fix (and a chmod there fails
 * for anyone but root). Symbolic links are neither followed nor changed; an entry removed
 * meanwhile is skipped.
 */
export function makeTreePrivate(path: string): number {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return 0;
  let changed = 0;
  const wanted = stat.isDirectory()
    ? PRIVATE_DIR_MODE
    : stat.isFile()
      ? PRIVATE_FILE_MODE | (stat.mode & 0o100)
      : null;
  if (wanted !== null && (stat.mode & 0o777) !== wanted) {
    if (!chmodIfPresent(path, wanted)) return 0;
    changed++;
  }
  if (stat.isDirectory()) {
    for (const name of listIfPresent(path)) changed += makeTreePrivate(join(path, name));
  }
  return changed;
}

const isGone = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** False when the entry was removed meanwhile. */
function chmodIfPresent(path: string, mode: number): boolean {
  try {
    chmodSync(path, mode);
    return true;
  } catch (error) {
    if (isGone(error)) return false;
    throw error;
  }
}

/** The folder's entries; none when it was removed meanwhile. */
function listIfPresent(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (error) {
    if (isGone(error)) return [];
    throw error;
  }
}
