import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { withWorkFolder } from './work-folder';

// The real fs/promises, with `rm` wrapped so that one test can make it fail.
jest.mock('node:fs/promises', () => {
  const actual = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises');
  return { ...actual, rm: jest.fn(actual.rm) };
});

describe('withWorkFolder', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'work-folder-spec-'))));
  afterEach(() => {
    jest
      .mocked(fsPromises.rm)
      .mockImplementation(
        jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises').rm,
      );
    rmSync(root, { recursive: true, force: true });
  });

  /** The pid of a process that has ended. */
  const endedPid = () => spawnSync('true').pid!;
  /** The `<pid>-<token>` this process puts in its folders' names. */
  async function ownMark(): Promise<string> {
    let folder = '';
    await withWorkFolder('dbaas-test', async (f) => void (folder = f), root);
    return /^dbaas-test-(\d+-[0-9a-f]{8})-/.exec(basename(folder))![1];
  }

  it('gives a folder named after this process, removed when the work ends or fails', async () => {
    let seen = '';
    const result = await withWorkFolder(
      'dbaas-test',
      async (folder) => {
        seen = folder;
        expect(statSync(folder).isDirectory()).toBe(true);
        return 42;
      },
      root,
    );
    expect(result).toBe(42);
    expect(basename(seen)).toMatch(new RegExp(`^dbaas-test-${process.pid}-[0-9a-f]{8}-\\w+$`));
    expect(existsSync(seen)).toBe(false);

    await expect(
      withWorkFolder(
        'dbaas-test',
        async (folder) => {
          seen = folder;
          throw new Error('tool failed');
        },
        root,
      ),
    ).rejects.toThrow('tool failed');
    expect(existsSync(seen)).toBe(false);
  });

  it('refuses a prefix that could name another folder or a pattern', async () => {
    for (const prefix of ['../dbaas', 'dbaas.*', 'dbaas-', '']) {
      await expect(withWorkFolder(prefix, async () => 'ran', root)).rejects.toThrow(
        `Bad work folder prefix: ${prefix}`,
      );
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('removes the folders of processes that are gone, and only those of its prefix', async () => {
    const mark = await ownMark();
    const gone = `dbaas-test-${endedPid()}-0123abcd-abc123`;
    // An earlier process of this same pid (a restarted container's pid 1).
    const earlierSamePid = `dbaas-test-${process.pid}-0123abcd-xyz999`;
    const mine = `dbaas-test-${mark}-def456`; // a run of this process still going on
    const parents = `dbaas-test-${process.ppid}-0123abcd-ghi789`;
    const other = `dbaas-other-${endedPid()}-0123abcd-jkl012`;
    for (const name of [gone, earlierSamePid, mine, parents, other]) mkdirSync(join(root, name));

    await withWorkFolder('dbaas-test', async () => undefined, root);

    expect(readdirSync(root).sort()).toEqual([mine, parents, other].sort());
  });

  it('does the work when a leftover cannot be removed (another user’s)', async () => {
    const gone = `dbaas-test-${endedPid()}-0123abcd-abc123`;
    mkdirSync(join(root, gone));
    const rm = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises').rm;
    jest.mocked(fsPromises.rm).mockImplementation(async (path, options) => {
      if (String(path).endsWith(gone)) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      return rm(path, options);
    });

    await expect(withWorkFolder('dbaas-test', async () => 'done', root)).resolves.toBe('done');
    expect(readdirSync(root)).toEqual([gone]);
  });
});
