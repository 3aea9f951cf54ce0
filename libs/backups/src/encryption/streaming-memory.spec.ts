import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupKey } from './backup-key';
import { DecryptStream } from './decrypt-stream';
import { EncryptStream } from './encrypt-stream';

const MB = 1024 * 1024;

/** `total` bytes of pseudo-random data in 64 KiB writes, and their SHA-256 once read. */
function source(total: number) {
  const pattern = randomBytes(MB);
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const at = sent % MB;
      const piece = Buffer.from(
        pattern.subarray(at, Math.min(at + 64 * 1024, MB, at + total - sent)),
      );
      sent += piece.length;
      hash.update(piece);
      this.push(piece);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** Hashes what arrives and records the highest RSS seen while it streams. */
function sink() {
  const hash = createHash('sha256');
  let bytes = 0;
  let peakRss = process.memoryUsage().rss;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      if (bytes % (4 * MB) < chunk.length) peakRss = Math.max(peakRss, process.memoryUsage().rss);
      done();
    },
  });
  return { stream, sha256: () => hash.digest('hex'), bytes: () => bytes, peakRss: () => peakRss };
}

describe('streaming encryption memory', () => {
  it('streams 200 MB through encrypt → decrypt with RSS growing less than 64 MB', async () => {
    const key = BackupKey.fromSecretKey(randomBytes(32));
    const roundTrip = async (total: number) => {
      const from = source(total);
      const to = sink();
      await pipeline(from.stream, new EncryptStream(key), new DecryptStream(key), to.stream);
      return { from, to };
    };
    await roundTrip(8 * MB); // warm up: code, crypto contexts, stream buffers
    const before = process.memoryUsage().rss;

    const { from, to } = await roundTrip(200 * MB);

    expect(to.bytes()).toBe(200 * MB);
    expect(to.sha256()).toBe(from.sha256());
    expect(to.peakRss() - before).toBeLessThan(64 * MB);
  });
});
