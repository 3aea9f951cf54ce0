import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePrivateDir, makeTreePrivate } from './private-dir';

const modeOf = (path: string) => lstatSync(path).mode & 0o777;

describe('private data folder', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'dbaas-private-'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('makePrivateDir creates the folder 0700 even under a umask that would take the owner bits', () => {
    const previous = process.umask(0o277);
    try {
      makePrivateDir(join(root, 'a', 'data'));
    } finally {
      process.umask(previous);
    }
    expect(modeOf(join(root, 'a', 'data'))).toBe(0o700);
  });

  it('makeTreePrivate sets folders 0700 and files 0600, counts what it changed, leaves symlinks and their targets', () => {
    const sut = makeTreePrivate;
    const data = join(root, 'data');
    mkdirSync(join(data, 'pgdata', 'base'), { recursive: true });
    mkdirSync(join(data, 'backups'));
    writeFileSync(join(data, 'pgdata', 'base', '1234'), 'rows');
    writeFileSync(join(data, 'secret.key'), 'key');
    writeFileSync(join(data, 'backups', 'ok.dump'), 'dump');
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'not ours');
    symlinkSync(outside, join(data, 'link'));
    for (const path of [
      data,
      join(data, 'pgdata'),
      join(data, 'pgdata', 'base'),
      join(data, 'backups'),
    ])
      chmodSync(path, 0o755);
    chmodSync(join(data, 'pgdata', 'base', '1234'), 0o666);
    chmodSync(join(data, 'secret.key'), 0o644);
    chmodSync(join(data, 'backups', 'ok.dump'), 0o600);
    chmodSync(outside, 0o644);

    expect(sut(data)).toBe(6);

    for (const path of [
      data,
      join(data, 'pgdata'),
      join(data, 'pgdata', 'base'),
      join(data, 'backups'),
    ])
      expect(modeOf(path)).toBe(0o700);
    for (const path of [
      join(data, 'pgdata', 'base', '1234'),
      join(data, 'secret.key'),
      join(data, 'backups', 'ok.dump'),
    ])
      expect(modeOf(path)).toBe(0o600);
    expect(statSync(outside).mode & 0o777).toBe(0o644);
    expect(sut(data)).toBe(0);
  });

  it('makeTreePrivate leaves what another user owns, and keeps a file owner-executable', () => {
    const data = join(root, 'data');
    mkdirSync(join(data, 'theirs'), { recursive: true });
    writeFileSync(join(data, 'theirs', 'file'), 'x');
    writeFileSync(join(data, 'run.sh'), '#!/bin/sh');
    chmodSync(join(data, 'theirs'), 0o755);
    chmodSync(join(data, 'theirs', 'file'), 0o644);
    chmodSync(join(data, 'run.sh'), 0o755);
    if (process.getuid?.() !== 0) {
      console.warn('Skipped: giving a file to another user (chown) needs root.');
      return;
    }
    // Owned by another user (nobody): a chmod there fails with EPERM for a non-root
    // process, and is not ours to change for root either.
    const other = 65534;
    chownSync(join(data, 'theirs'), other, other);
    chownSync(join(data, 'theirs', 'file'), other, other);

    expect(() => makeTreePrivate(data)).not.toThrow();

    expect(modeOf(join(data, 'theirs'))).toBe(0o755);
    expect(modeOf(join(data, 'theirs', 'file'))).toBe(0o644);
    expect(modeOf(join(data, 'run.sh'))).toBe(0o700);
  });
});
