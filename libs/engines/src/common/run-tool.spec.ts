import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { BackupToolError } from './dump-tool';
import { runTool, ToolRun } from './run-tool';

const sh = (script: string, extra: Partial<ToolRun> = {}) =>
  runTool({
    name: 'tool',
    command: '/bin/sh',
    args: ['-c', script],
    env: {},
    secrets: [],
    ...extra,
  });

function collector() {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString() };
}

describe('runTool', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dbaas-run-tool-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('streams stdout into the output and ends it on success', async () => {
    const out = collector();
    await sh('printf "dump bytes"', { output: out.stream });
    expect(out.text()).toBe('dump bytes');
    expect(out.stream.writableEnded).toBe(true);
  });

  it('feeds the input to stdin', async () => {
    await sh(`cat > ${dir}/in`, { input: Readable.from([Buffer.from('a'), Buffer.from('b')]) });
    expect(readFileSync(join(dir, 'in'), 'utf8')).toBe('ab');
  });

  it('lets the writer of its input finish when the tool exits 0 without reading it all (pg_restore)', async () => {
    const input = new PassThrough();
    // 4 MiB, far more than the pipe holds: the tool exits after 10 bytes.
    const writing = (async () => {
      for (let i = 0; i < 64; i++) {
        if (!input.write(Buffer.alloc(65_536)))
          await new Promise<void>((resolve, reject) => {
            input.once('drain', resolve);
            input.once('error', reject);
            input.once('close', () => reject(new Error('input closed before the end')));
          });
      }
      input.end();
    })();

    await sh('head -c 10 > /dev/null', { input });

    await expect(writing).resolves.toBeUndefined();
  });

  it('fails with the exit status and stderr, secrets redacted, and destroys the output', async () => {
    const out = collector();
    const error = await sh('printf partial; echo "login with s3cret-pass refused" >&2; exit 3', {
      env: { PASSWORD: 's3cret-pass' },
      secrets: ['s3cret-pass'],
      output: out.stream,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupToolError);
    expect((error as Error).message).toBe(
      'tool failed (exit code 3): login with [redacted] refused',
    );
    expect(out.stream.destroyed).toBe(true);
    expect(out.stream.writableEnded).toBe(false); // never looks like a complete dump
  });

  it('names a missing binary', async () => {
    await expect(
      runTool({ name: 'pg_dump', command: `${dir}/nope`, args: [], env: {}, secrets: [] }),
    ).rejects.toThrow(/pg_dump could not start: spawn .* ENOENT/);
  });

  it('passes on nothing of the API environment, only what it is given', async () => {
    process.env.DBAAS_SECRET_KEY = 'ab'.repeat(32);
    try {
      const out = collector();
      await sh('echo "${DBAAS_SECRET_KEY:-none} $GIVEN"', {
        env: { GIVEN: 'yes' },
        output: out.stream,
      });
      expect(out.text()).toBe('none yes\n');
    } finally {
      delete process.env.DBAAS_SECRET_KEY;
    }
  });

  it('kills the tool when its signal is aborted, failing with the reason', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const running = sh('sleep 30', { signal: stop.signal });
    setTimeout(() => stop.abort(new Error('the other tool failed')), 200);
    await expect(running).rejects.toThrow('the other tool failed');
    expect(Date.now() - started).toBeLessThan(20_000);
    await expect(
      sh('echo never', { signal: AbortSignal.abort(new Error('stopped before')) }),
    ).rejects.toThrow('stopped before');
  });

  it('kills with SIGKILL: a tool that ignores SIGTERM is stopped too', async () => {
    const stop = new AbortController();
    const started = Date.now();
    // The shell and its sleep ignore SIGTERM (an ignored signal stays ignored across exec).
    const running = sh(`trap '' TERM; sleep 30`, { signal: stop.signal });
    setTimeout(() => stop.abort(new Error('stopped')), 200);
    await expect(running).rejects.toThrow('stopped');
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 40_000);

  it('kills the tool before it sees the end of an input that failed', async () => {
    const input = new PassThrough();
    // The tool would report success on a clean end of input: it must never get there.
    const running = sh(`cat > ${dir}/in && touch ${dir}/finished`, { input });
    input.write('first half');
    await new Promise((resolve) => setImmediate(resolve));
    input.destroy(new Error('backup chunk 3 fails authentication'));
    await expect(running).rejects.toThrow('backup chunk 3 fails authentication');
    expect(existsSync(join(dir, 'finished'))).toBe(false);
  });

  it('stops the tool when the output fails', async () => {
    const out = new PassThrough();
    const running = sh('yes dump', { output: out });
    out.destroy(new Error('storage is full'));
    await expect(running).rejects.toThrow('storage is full');
  });

  it('settles when the output fails after the tool exited 0 with its output unread', async () => {
    // The output takes one write and never finishes it: stdout stops flowing with the end
    // of the tool's output still unread (what happens to pg_restore when psql fails).
    let stalled!: () => void;
    const seenWrite = new Promise<void>((resolve) => (stalled = resolve));
    const out = new Writable({ highWaterMark: 1, write: () => stalled() });
    const running = sh(
      `printf first; while [ ! -e ${dir}/go ]; do sleep 0.01; done; head -c 100000 /dev/zero; touch ${dir}/exiting`,
      { output: out },
    );
    await seenWrite;
    writeFileSync(join(dir, 'go'), '');
    while (!existsSync(join(dir, 'exiting'))) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100)); // let it exit: the test fails only by hanging
    out.destroy(new Error('the reader stopped'));
    await expect(running).rejects.toThrow('the reader stopped');
  });
  it('gives the tool PATH and LANG=C besides what it is given', async () => {
    const out = collector();
    await sh('echo "$PATH|$LANG"', { output: out.stream });
    expect(out.text()).toBe(`${process.env.PATH}|C\n`);
  });

  it('gives a tool without input an empty stdin and one without output no stdout pipe', async () => {
    const out = collector();
    // A stdin pipe left open would keep `cat` waiting; an unread stdout pipe would stop the
    // second tool once the pipe is full (64 KiB).
    await sh('cat; printf read', { output: out.stream });
    expect(out.text()).toBe('read');
    await sh('head -c 1000000 /dev/zero');
  });

  it('keeps the end of a long stderr, and names a signal', async () => {
    await expect(
      sh('head -c 10000 /dev/zero | tr "\\0" x >&2; echo " the end" >&2; exit 1'),
    ).rejects.toThrow(
      new BackupToolError(`tool failed (exit code 1): ${'x'.repeat(4087)} the end`),
    );
    await expect(sh('kill -9 $$')).rejects.toThrow(/^tool failed \(signal SIGKILL\): $/);
  });

  it('redacts every secret, and an empty one garbles nothing', async () => {
    await expect(
      sh('echo "user u1 pw1 pw2 pw1" >&2; exit 1', { secrets: ['', 'pw1', 'pw2'] }),
    ).rejects.toThrow(
      /^tool failed \(exit code 1\): user u1 \[redacted\] \[redacted\] \[redacted\]$/,
    );
  });

  it('fails at once, without the tool finishing, on an input that failed or closed before the run', async () => {
    const failed = new PassThrough();
    failed.on('error', () => undefined);
    failed.destroy(new Error('chunk 1 fails authentication'));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(sh(`cat > /dev/null && touch ${dir}/a`, { input: failed })).rejects.toThrow(
      'chunk 1 fails authentication',
    );

    const closed = new PassThrough();
    closed.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(sh(`cat > /dev/null && touch ${dir}/b`, { input: closed })).rejects.toThrow(
      new BackupToolError('tool: its input closed early'),
    );
    expect(existsSync(join(dir, 'a')) || existsSync(join(dir, 'b'))).toBe(false);
  });

  it('destroys the input of a tool that failed, and stops on an output closed without an error', async () => {
    const input = new PassThrough();
    input.write('more than the tool reads');
    await expect(sh('exit 3', { input })).rejects.toThrow('tool failed (exit code 3)');
    expect(input.destroyed).toBe(true);

    const out = new PassThrough();
    const running = sh('yes dump', { output: out });
    out.destroy();
    await expect(running).rejects.toThrow(
      new BackupToolError('tool: its output closed before the end'),
    );
  });
});
