import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess } from './support/api-process';
import { CLOSED_ADDRESS } from './support/test-stack';

/** The first start (initdb) is slow on a busy machine. */
const BOOT_MS = 120_000;
/**
 * The data folder itself: the owner's only, but for the group of the user the embedded
 * PostgreSQL runs as when the API runs as root (it may enter, to reach its server folder).
 */
const TOP_MODE = process.getuid?.() === 0 ? 0o710 : 0o700;

/** Every entry under `dir` (itself included) with its permission bits, symlinks skipped. */
function modes(dir: string): Map<string, { kind: 'dir' | 'file'; mode: number }> {
  const found = new Map<string, { kind: 'dir' | 'file'; mode: number }>();
  const visit = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      found.set(path, { kind: 'dir', mode: stat.mode & 0o777 });
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (stat.isFile()) {
      found.set(path, { kind: 'file', mode: stat.mode & 0o777 });
    }
  };
  visit(dir);
  return found;
}

/** The entries whose mode lets anyone but the owner in: folders not 0700, files not 0600. */
function open(dir: string): string[] {
  return [...modes(dir)]
    .filter(([path, entry]) => {
      const wanted = path === dir ? TOP_MODE : entry.kind === 'dir' ? 0o700 : 0o600;
      return entry.mode !== wanted;
    })
    .map(([path, entry]) => `${path} ${entry.mode.toString(8)}`);
}

/** DBAAS_DATA_DIR holds the embedded store (password hashes, sealed secrets): the owner's only. */
describe('embedded store data folder modes (e2e)', () => {
  const parent = mkdtempSync(join(tmpdir(), 'dbaas-modes-'));
  // As root, the server user must be able to enter the folders above the data folder.
  chmodSync(parent, 0o755);
  const dataDir = join(parent, 'data');
  // No engine answers here: the sample catalog is seeded, the sample databases are skipped.
  const env = {
    DBAAS_DATA_DIR: dataDir,
    DBAAS_SAMPLE_POSTGRESQL_URL: `postgresql://postgres@${CLOSED_ADDRESS}`,
    DBAAS_SAMPLE_MYSQL_URL: `mysql://root@${CLOSED_ADDRESS}`,
    DBAAS_SAMPLE_REDIS_URL: `redis://default@${CLOSED_ADDRESS}`,
    DBAAS_SAMPLE_MONGODB_URL: `mongodb://admin@${CLOSED_ADDRESS}`,
  };
  let api: ApiProcess | undefined;

  afterAll(async () => {
    await api?.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  it('creates a fresh data folder 0700 (0710 as root), with folders 0700 and files 0600 inside, and logs no fix', async () => {
    const fresh = await ApiProcess.start(env, undefined, BOOT_MS);
    try {
      expect(lstatSync(dataDir).mode & 0o777).toBe(TOP_MODE);
      expect(modes(dataDir).size).toBeGreaterThan(100);
      expect(open(dataDir)).toEqual([]);
      expect(fresh.logs).not.toMatch(/Fixed the mode/);
    } finally {
      await fresh.stop();
    }
  }, 150_000);

  it('at boot, closes a data folder left 0755 with 0666 files (backups folder included), in one log line', async () => {
    // As an older version left it: everything readable, the store's files writable by all.
    // Not the server folder: PostgreSQL itself refuses to start on one others may read.
    mkdirSync(join(dataDir, 'backups', 'daily'), { recursive: true });
    writeFileSync(join(dataDir, 'backups', 'daily', 'orders.dump'), 'sealed dump');
    const server = join(dataDir, 'postgres');
    for (const [path, entry] of modes(dataDir))
      if (path !== server && !path.startsWith(server + '/'))
        chmodSync(path, entry.kind === 'dir' ? 0o755 : 0o666);
    const loose = open(dataDir).length;
    expect(loose).toBeGreaterThan(4);

    api = await ApiProcess.start(env, undefined, BOOT_MS);
    expect(open(dataDir)).toEqual([]);
    expect(lstatSync(join(dataDir, 'backups', 'daily', 'orders.dump')).mode & 0o777).toBe(0o600);
    const lines = api.logs.split('\n').filter((line) => line.includes('Fixed the mode'));
    expect(lines).toHaveLength(1);
    // secret.key is set 0600 as the configuration reads it, before the store looks.
    expect(lines[0]).toContain(`Fixed the mode of ${loose - 1} entries in ${dataDir}`);
  }, 150_000);
});
