import { Writable } from 'node:stream';
import { ApiClient } from './client';
import { follow, formatBytes } from './follow';

/** A fake API answering the given states in turn, and a captured stderr. */
function setUp(states: { status: string; size_in_bytes?: number; error?: string }[], tty = false) {
  let call = 0;
  const client = {
    get: jest.fn(async () => states[Math.min(call++, states.length - 1)]),
  } as unknown as ApiClient;
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  stream.isTTY = tty;
  return { client, lines, stream };
}

describe('follow (the CLI progress line)', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] }));
  afterEach(() => jest.useRealTimers());

  const run = async <T>(promise: Promise<T>) => {
    for (let i = 0; i < 10; i++) await jest.advanceTimersByTimeAsync(1_000);
    return promise;
  };

  it('in a log: a line per status change with the detail, and the settled resource', async () => {
    const { client, lines, stream } = setUp([
      { status: 'running', size_in_bytes: 0 },
      { status: 'running', size_in_bytes: 2048 },
      { status: 'ready', size_in_bytes: 4 * 1024 * 1024 },
    ]);
    const result = await run(
      follow<{ status: string; size_in_bytes?: number }>(client, '/api/backup/1/', 'backup 1', {
        pending: ['running'],
        failed: ['failed'],
        detail: (b) => (b.size_in_bytes != null ? formatBytes(b.size_in_bytes) : undefined),
        progress: stream,
      }),
    );
    expect(result.status).toBe('ready');
    expect(lines).toEqual(['backup 1: running, 0 B, 0 s\n', 'backup 1: ready, 4.0 MB, 2 s\n']);
  });

  it('on a terminal: the line is redrawn in place and ends with a newline', async () => {
    const { client, lines, stream } = setUp([{ status: 'running' }, { status: 'ready' }], true);
    await run(
      follow(client, '/x', 'backup 2', { pending: ['running'], failed: [], progress: stream }),
    );
    expect(lines).toEqual(['\r\x1b[2Kbackup 2: running, 0 s', '\r\x1b[2Kbackup 2: ready, 1 s\n']);
  });

  it('a failed state is exit 1 with the error', async () => {
    const { client, stream } = setUp([{ status: 'failed', error: 'engine down' }]);
    const options = { pending: ['running'], failed: ['failed'], progress: stream };
    // It fails on the first answer: no timer to advance.
    await expect(follow(client, '/x', 'backup 3', options)).rejects.toThrow(
      'backup 3 failed: engine down',
    );
  });

  it('formats sizes', () => {
    expect([formatBytes(5), formatBytes(1536), formatBytes(3 * 1024 ** 3)]).toEqual([
      '5 B',
      '1.5 kB',
      '3.0 GB',
    ]);
  });
});
