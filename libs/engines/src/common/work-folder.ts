import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private temporary folder for one tool run (a named pipe, a file holding a password),
 * named `<prefix>-<pid>-<random>` and removed by `use` when the work ends. A process killed
 * meanwhile cannot remove it, so each new folder first removes those of processes that are
 * gone (their pid in the name); a folder of a live process, this one's included, stays.
 */
export async function withWorkFolder<T>(
  prefix: string,
  work: (folder: string) => Promise<T>,
  root = tmpdir(),
): Promise<T> {
  await removeLeftovers(prefix, root);
  const folder = await mkdtemp(join(root, `${prefix}-${process.pid}-`));
  try {
    return await work(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function removeLeftovers(prefix: string, root: string): Promise<void> {
  const pattern = new RegExp(`^${prefix}-(\\d+)-`);
  for (const name of await readdir(root).catch(() => [])) {
    const pid = pattern.exec(name)?.[1];
    if (pid !== undefined && !isRunning(Number(pid)))
      await rm(join(root, name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
