import { createHash } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';

/** Test helper: a Writable that keeps what it gets. */
export function collector(): { stream: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });
  stream.on('error', () => undefined); // a failed dump destroys its output with the error
  return { stream, bytes: () => Buffer.concat(parts) };
}

/** Test helper: sends `bytes`, then fails like a corrupt backup file would. */
export function failingAfter(
  bytes: Buffer,
  message = 'Backup file chunk 1 fails authentication',
): Readable {
  const input = new PassThrough();
  input.write(bytes);
  setImmediate(() => input.destroy(new Error(message)));
  return input;
}

/** Test helper: SHA-256 of rows as JSON, buffers as hex. */
export function checksum(rows: unknown): string {
  const json = JSON.stringify(rows, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
  return createHash('sha256').update(json).digest('hex');
}
