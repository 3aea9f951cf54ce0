import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** The user the embedded PostgreSQL runs as when the API runs as root. */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

/** Tried in this order: the usual PostgreSQL account, then the account of last resort. */
const CANDIDATES = ['postgres', 'nobody'];

/**
 * PostgreSQL refuses to run as root. Started by root, the embedded server runs as the
 * `postgres` user (or `nobody` where there is none); started by anyone else, as that user
 * (undefined here).
 */
export function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of CANDIDATES) {
    const fields = passwd.find((line) => line.startsWith(`${name}:`))?.split(':');
    if (fields) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error(
    'the API runs as root and no "postgres" or "nobody" user exists to run the embedded PostgreSQL: run the API as a regular user',
  );
}

/**
 * Throws, naming the folder, unless `user` may enter every folder from `/` down to `path`
 * (the server reads its data folder and its own binaries by path).
 */
export function assertReachable(path: string, user: ServerUser, what: string): void {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const stat = statSync(dir);
    const mode = stat.mode;
    const enters =
      mode & 0o001 ||
      (stat.gid === user.gid && mode & 0o010) ||
      (stat.uid === user.uid && mode & 0o100);
    if (!enters) {
      throw new Error(
        `the embedded PostgreSQL runs as user ${user.name} (PostgreSQL refuses root), which cannot enter ${dir} to reach ${what}: move it under a folder others may enter, or run the API as a regular user`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}
