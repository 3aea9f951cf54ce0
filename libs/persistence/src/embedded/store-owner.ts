import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file that names the process owning the embedded store, in the data folder. */
const OWNER_FILE = 'store.owner';

interface OwnerRecord {
  pid: number;
  /** What the owner is: `API`, `dbaas reset-data`, ... */
  command: string;
  since: string;
  /** The kernel's start time of that pid (Linux), so that a reused pid is not taken for it. */
  processStart?: string;
}

/** Another live process owns the embedded store: the message is one line naming it. */
export class StoreInUseError extends Error {
  override readonly name = 'StoreInUseError';
}

/**
 * One owner per embedded store (SPEC §11): the process that starts its PostgreSQL server
 * writes its pid to `store.owner` (created exclusively) and removes it when it stops. A
 * second process finds the file, sees the owner alive and stops with one line naming it.
 * An owner that died without removing it (SIGKILL, power loss) is recognised as gone (no
 * such process, or the pid now belongs to a process started later) and replaced.
 */
export class StoreOwner {
  private constructor(private readonly file: string) {}

  static take(dataDir: string, command: string): StoreOwner {
    const file = join(dataDir, OWNER_FILE);
    const mine: OwnerRecord = {
      pid: process.pid,
      command,
      since: new Date().toISOString(),
      processStart: processStart(process.pid),
    };
    // Twice at most: the second attempt follows the removal of a dead owner's file.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, JSON.stringify(mine) + '\n', { flag: 'wx', mode: 0o600 });
        return new StoreOwner(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readOwner(file);
      if (holder && isAlive(holder)) {
        throw new StoreInUseError(
          `the embedded store in ${dataDir} is in use by ${holder.command} (pid ${holder.pid}, since ${holder.since}): stop it first, or work through its API`,
        );
      }
      unlinkSync(file);
    }
    throw new StoreInUseError(`the embedded store in ${dataDir} was just taken by another process`);
  }

  /** Gives the store up (only if the file is still this process's). */
  release(): void {
    const holder = readOwner(this.file);
    if (holder?.pid === process.pid) unlinkSync(this.file);
  }
}

function readOwner(file: string): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as OwnerRecord;
  } catch {
    // Gone meanwhile, or half-written by a process that died: nobody holds it.
    return undefined;
  }
}

function isAlive(owner: OwnerRecord): boolean {
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStart(owner.pid);
  return !owner.processStart || !start || start === owner.processStart;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
