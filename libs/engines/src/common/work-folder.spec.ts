import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withWorkFolder } from './work-folder';

describe('withWorkFolder', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'work-folder-spec-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** The pid of a process that has ended. */
  const endedPid = () => spawnSync('true').pid!;

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
    expect(seen).toMatch(new RegExp(`/dbaas-test-${process.pid}-\\w+$`));
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

  it('removes the folders of processes that are gone, and only those of its prefix', async () => {
    const gone = join(root, `dbaas-test-${endedPid()}-abc123`);
    const mine = join(root, `dbaas-test-${process.pid}-def456`); // a run still going on
    const parents = join(root, `dbaas-test-${process.ppid}-ghi789`);
    const other = join(root, `dbaas-other-${endedPid()}-jkl012`);
    for (const folder of [gone, mine, parents, other]) mkdirSync(folder);

    await withWorkFolder('dbaas-test', async () => undefined, root);

    expect(readdirSync(root).sort()).toEqual(
      [mine, parents, other].map((folder) => folder.slice(root.length + 1)).sort(),
    );
  });
});
