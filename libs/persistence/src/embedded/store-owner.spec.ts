import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreInUseError, StoreOwner } from './store-owner';

describe('StoreOwner', () => {
  let dir: string;
  let other: ChildProcess | undefined;
  const file = () => join(dir, 'store.owner');
  const ownerFile = (record: object) => writeFileSync(file(), JSON.stringify(record));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbaas-owner-'));
  });

  afterEach(() => {
    other?.kill('SIGKILL');
    other = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A live process that is not this one. */
  function liveProcess(): number {
    other = spawn('sleep', ['30']);
    return other.pid!;
  }

  it('takes a free store, writes its pid 0600, and gives it up on release', () => {
    const owner = StoreOwner.take(dir, 'the API');
    expect(JSON.parse(readFileSync(file(), 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'the API',
    });
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    owner.release();
    expect(existsSync(file())).toBe(false);
  });

  it('refuses while another live process owns it, naming that process', () => {
    const pid = liveProcess();
    ownerFile({ pid, command: 'dbaas reset-data', since: '2026-11-29T10:00:00.000Z' });
    expect(() => StoreOwner.take(dir, 'the API')).toThrow(StoreInUseError);
    expect(() => StoreOwner.take(dir, 'the API')).toThrow(
      `the embedded store in ${dir} is in use by dbaas reset-data (pid ${pid}, since 2026-11-29T10:00:00.000Z): stop it first`,
    );
    expect(JSON.parse(readFileSync(file(), 'utf8')).pid).toBe(pid);
  });

  it('takes over from an owner that died without giving the store up', async () => {
    const pid = liveProcess();
    const exited = new Promise((resolve) => other!.once('exit', resolve));
    other!.kill('SIGKILL');
    await exited;
    ownerFile({ pid, command: 'the API', since: '2026-11-29T10:00:00.000Z' });
    StoreOwner.take(dir, 'dbaas migrate');
    expect(JSON.parse(readFileSync(file(), 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('takes over when the pid now belongs to a process started later (pid reuse)', () => {
    if (!existsSync('/proc/self/stat')) {
      process.stdout.write('no /proc here: pid reuse cannot be told apart; not checked\n');
      return;
    }
    const pid = liveProcess();
    ownerFile({ pid, command: 'the API', since: '2020-01-01T00:00:00.000Z', processStart: '1' });
    StoreOwner.take(dir, 'the API');
    expect(JSON.parse(readFileSync(file(), 'utf8')).pid).toBe(process.pid);
  });

  it('takes over from a half-written owner file', () => {
    writeFileSync(file(), '{"pid": 12');
    StoreOwner.take(dir, 'the API');
    expect(JSON.parse(readFileSync(file(), 'utf8')).pid).toBe(process.pid);
  });

  it('release leaves a file that another process wrote meanwhile alone', () => {
    const owner = StoreOwner.take(dir, 'the API');
    const pid = liveProcess();
    ownerFile({ pid, command: 'the API', since: '2026-11-29T10:00:00.000Z' });
    owner.release();
    expect(JSON.parse(readFileSync(file(), 'utf8')).pid).toBe(pid);
  });
});
