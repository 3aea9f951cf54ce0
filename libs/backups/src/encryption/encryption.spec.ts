import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupCorruptError } from '../backup-errors';
import { BackupKey } from './backup-key';
import { DecryptStream } from './decrypt-stream';
import { EncryptStream } from './encrypt-stream';
import { HEADER_LENGTH, TAG_LENGTH } from './sealed-format';

const CHUNK = 1024;
const SEALED_CHUNK = CHUNK + TAG_LENGTH;
const secret = randomBytes(32);
const key = BackupKey.fromSecretKey(secret);

/** Feeds `data` in uneven pieces, so chunk boundaries never match write boundaries. */
function piecesOf(data: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0, size = 1; at < data.length; at += size, size = (size * 7 + 3) % 3000) {
    pieces.push(data.subarray(at, at + size));
  }
  return pieces;
}

async function run(data: Buffer, transform: EncryptStream | DecryptStream): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(piecesOf(data)), transform, collect(out));
  return Buffer.concat(out);
}

function collect(out: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk);
      done();
    },
  });
}

const seal = (data: Buffer, withKey = key) =>
  run(data, new EncryptStream(withKey, { chunkSize: CHUNK }));
const open = (sealed: Buffer, withKey = key) => run(sealed, new DecryptStream(withKey));

/** The bytes of sealed chunk i (0-based), tag included. */
const chunkAt = (sealed: Buffer, i: number) =>
  sealed.subarray(HEADER_LENGTH + i * SEALED_CHUNK, HEADER_LENGTH + (i + 1) * SEALED_CHUNK);
const headerOf = (sealed: Buffer) => sealed.subarray(0, HEADER_LENGTH);

describe('sealed backup files (AES-256-GCM in chunks)', () => {
  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 17])(
    'opens what it sealed (%i bytes), with one tag per chunk',
    async (size) => {
      const data = randomBytes(size);
      const sealed = await seal(data);
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      expect(sealed.length).toBe(HEADER_LENGTH + size + chunks * TAG_LENGTH);
      expect((await open(sealed)).equals(data)).toBe(true);
    },
  );

  it('seals the same data differently each time, and never shows the plaintext', async () => {
    const data = Buffer.alloc(4 * CHUNK, 'a');
    const [first, second] = [await seal(data), await seal(data)];
    expect(first.equals(second)).toBe(false);
    expect(first.includes(Buffer.alloc(32, 'a'))).toBe(false);
  });

  describe('fails with BackupCorruptError', () => {
    let data: Buffer;
    let sealed: Buffer;
    beforeAll(async () => {
      data = randomBytes(4 * CHUNK + 100); // chunks 0..3 full, chunk 4 final
      sealed = await seal(data);
    });

    const expectCorrupt = async (bytes: Buffer, message: RegExp, withKey = key) => {
      const error = await open(bytes, withKey).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackupCorruptError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(secret.toString('hex'));
    };

    it.each([
      ['in the magic bytes', 0, /Not a dbaas backup file/],
      ['in the version', 8, /Unsupported backup file format version/],
      ['in the salt', 25, /chunk 0 fails authentication/],
      ['in a middle chunk', HEADER_LENGTH + 2 * SEALED_CHUNK + 5, /chunk 2 fails authentication/],
      ['in a tag', HEADER_LENGTH + SEALED_CHUNK - 1, /chunk 0 fails authentication/],
      ['in the final chunk', HEADER_LENGTH + 4 * SEALED_CHUNK + 3, /chunk 4 fails/],
    ])('on a byte flipped %s', async (_where, at, message) => {
      const tampered = Buffer.from(sealed);
      tampered[at] ^= 0x01;
      await expectCorrupt(tampered, message);
    });

    it('on a file cut inside a chunk, at a chunk boundary, or in its header', async () => {
      await expectCorrupt(sealed.subarray(0, sealed.length - 1), /chunk 4 fails/);
      await expectCorrupt(
        sealed.subarray(0, HEADER_LENGTH + 4 * SEALED_CHUNK),
        /truncated: it ends after chunk 3, not at its final chunk/,
      );
      await expectCorrupt(sealed.subarray(0, HEADER_LENGTH), /truncated: it ends after its header/);
      await expectCorrupt(sealed.subarray(0, 10), /truncated: no header/);
      await expectCorrupt(Buffer.alloc(0), /truncated: no header/);
    });

    it('on a dropped, swapped, or borrowed chunk', async () => {
      const chunks = [0, 1, 2, 3].map((i) => chunkAt(sealed, i));
      const final = sealed.subarray(HEADER_LENGTH + 4 * SEALED_CHUNK);
      const rebuilt = (...parts: Buffer[]) => Buffer.concat([headerOf(sealed), ...parts]);
      await expectCorrupt(rebuilt(chunks[0], chunks[2], chunks[3], final), /chunk 1 fails/);
      await expectCorrupt(rebuilt(chunks[0], chunks[2], chunks[1], chunks[3], final), /chunk 1/);
      const other = await seal(data);
      await expectCorrupt(
        rebuilt(chunks[0], chunkAt(other, 1), chunks[2], chunks[3], final),
        /chunk 1 fails/,
      );
      // Another file's header with this file's chunks: another file key and nonces.
      await expectCorrupt(
        Buffer.concat([headerOf(other), sealed.subarray(HEADER_LENGTH)]),
        /chunk 0/,
      );
    });

    it('on another secret key, named as such, even with the key id forged', async () => {
      const otherKey = BackupKey.fromSecretKey(randomBytes(32));
      await expectCorrupt(sealed, /sealed with another key .*DBAAS_SECRET_KEY/, otherKey);
      const forged = Buffer.from(sealed);
      otherKey.id.copy(forged, 13);
      await expectCorrupt(forged, /chunk 0 fails authentication/, otherKey);
    });

    it('after releasing only the chunks that were authenticated', async () => {
      const tampered = Buffer.from(sealed);
      tampered[HEADER_LENGTH + 2 * SEALED_CHUNK + 5] ^= 0x80;
      const out: Buffer[] = [];
      await expect(
        pipeline(Readable.from([tampered]), new DecryptStream(key), collect(out)),
      ).rejects.toThrow(BackupCorruptError);
      expect(Buffer.concat(out).equals(data.subarray(0, 2 * CHUNK))).toBe(true);
    });
  });

  it('derives its key from the secret key under a label of its own', () => {
    const again = BackupKey.fromSecretKey(Buffer.from(secret));
    expect(again.id.equals(key.id)).toBe(true);
    const salt = randomBytes(16);
    expect(again.fileKey(salt).equals(key.fileKey(salt))).toBe(true);
    expect(key.fileKey(salt).equals(secret)).toBe(false);
    expect(key.fileKey(salt).equals(key.fileKey(randomBytes(16)))).toBe(false);
  });
});
