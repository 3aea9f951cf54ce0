import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * This process's mark on its folders: its pid, and a token that tells it from an earlier
 * process of the same pid (in a container the API is always pid 1, and a restarted
 * container keeps its /tmp).
 */
const TOKEN = randomBytes(4).toString('hex');

/**
 * A private temporary folder for one tool run (a named pipe, a file holding a password),
 * named `<prefix>-<pid>-<token>-<random>` and removed by `use` when the work ends. A process
 * killed meanwhile cannot remove it, so each new folder first removes those of processes
 * that are gone: another pid that no longer runs, or this pid with another token. A folder
 * of a live process stays. Removing is best effort: a folder that cannot be removed (another
 * user's) never stops the work.
 */
export async function withWorkFolder<T>(
  prefix: string,
  work: (folder: string) => Promise<T>,
  root = tmpdir(),
): Promise<T> {
  if (!/^[a-z]+(-[a-z]+)*$/.test(prefix)) throw new Error(`Bad work folder prefix: ${prefix}`);
  await removeLeftovers(prefix, root);
  const folder = await mkdtemp(join(root, `${prefix}-${process.pid}-${TOKEN}-`));
  try {
    return await work(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function removeLeftovers(prefix: string, root: string): Promise<void> {
  const pattern = new RegExp(`^${prefix}-(\\d+)-([0-9a-f]{8})-`);
  for (const name of await readdir(root).catch(() => [])) {
    const owner = pattern.exec(name);
    if (!owner) continue;
    const pid = Number(owner[1]);
    const gone = pid === process.pid ? owner[2] !== TOKEN : !isRunning(pid);
    if (gone) await rm(join(root, name), { recursive: true, force: true }).catch(() => undefined);
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
