import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { NotLoggedInError, UsageError } from '../errors';

/** Where and as whom the CLI talks to the API. */
export interface Login {
  url: string;
  user: string;
  password: string;
}

/** `$XDG_CONFIG_HOME/dbaas/config.json`, else `~/.config/dbaas/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(homedir(), '.config');
  return join(base, 'dbaas', 'config.json');
}

/** An http(s) URL without a trailing slash, or a usage error naming where it came from. */
export function normalizeUrl(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new UsageError(`${source} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${source} must start with http:// or https://`);
  if (url.username || url.password)
    throw new UsageError(`${source} must not carry a user or password; use dbaas login`);
  return url.toString().replace(/\/+$/, '');
}

async function readSaved(path: string): Promise<Partial<Login>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<Login>;
    return typeof parsed === 'object' && parsed ? parsed : {};
  } catch {
    throw new NotLoggedInError(`${path} is not valid JSON: run dbaas login again`);
  }
}

/**
 * The login to use: each of `DBAAS_URL`, `DBAAS_USER` and `DBAAS_PASSWORD` wins over the
 * saved file. Exit code 3 when something is missing.
 */
export async function resolveLogin(env: NodeJS.ProcessEnv = process.env): Promise<Login> {
  const path = configPath(env);
  const saved = await readSaved(path);
  const url = env.DBAAS_URL || saved.url;
  const user = env.DBAAS_USER || saved.user;
  const password = env.DBAAS_PASSWORD ?? saved.password;
  if (!url || !user || !password) {
    throw new NotLoggedInError(
      'not logged in: run "dbaas login", or set DBAAS_URL, DBAAS_USER and DBAAS_PASSWORD',
    );
  }
  return { url: normalizeUrl(url, env.DBAAS_URL ? 'DBAAS_URL' : path), user, password };
}

/** Saves the login readable by its owner only (folder 0700, file 0600). */
export async function saveLogin(
  login: Login,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = configPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // An existing folder keeps its mode through mkdir: tighten it.
  await chmod(dirname(path), 0o700);
  // A new file created 0600 then renamed over the old one: the password is never readable
  // by others, even for a moment, whatever mode an older file had.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
  return path;
}

/** Removes the saved login; false when there was none. */
export async function removeLogin(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const path = configPath(env);
  try {
    await rm(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
