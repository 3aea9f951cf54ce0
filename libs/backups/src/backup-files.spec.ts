import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { PostgresDumpTool } from '@dbaas/engines';
import {
  checksum,
  EngineServer,
  S3Server,
  startPostgres,
  startS3,
  targetOf,
} from '../../../test/harness';
import { BackupCorruptError, BackupFileNotFoundError } from './backup-errors';
import { BackupFiles } from './backup-files';
import { BackupKey } from './encryption/backup-key';
import { LocalDirStorage } from './storage/local-dir.storage';
import { S3BucketStorage } from './storage/s3-bucket.storage';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const key = BackupKey.fromSecretKey(randomBytes(32));

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        parts.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(parts);
}

/** A producer writing `data` in pieces, as a dump tool would, ending its output. */
const writes = (data: Buffer) => async (out: Writable) => {
  await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), out);
};

describe('BackupFiles on a local folder', () => {
  let dir: string;
  let sut: BackupFiles;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbaas-backup-files-'));
    sut = new BackupFiles(new LocalDirStorage(dir), key);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores the sealed dump and returns the size and SHA-256 of the stored bytes', async () => {
    const data = randomBytes(300_000);
    const saved = await sut.save('prod/shop/1.dump', writes(data));

    const stored = readFileSync(join(dir, 'prod/shop/1.dump'));
    expect(saved).toEqual({ sizeInBytes: stored.length, sha256: sha256(stored) });
    expect(stored.includes(data.subarray(5000, 5032))).toBe(false); // sealed, not plain
    expect((await readAll(await sut.open('prod/shop/1.dump', saved.sha256))).equals(data)).toBe(
      true,
    );
  });

  it('leaves no file when the dump fails, and throws its error', async () => {
    const failing = async (out: Writable) => {
      out.write(randomBytes(200_000));
      throw new Error('pg_dump failed (exit code 1): connection lost');
    };
    await expect(sut.save('prod/shop/2.dump', failing)).rejects.toThrow('connection lost');
    expect(await sut.exists('prod/shop/2.dump')).toBe(false);
    expect(readdirSync(join(dir, 'prod/shop'))).toEqual([]);
  });

  it('fails the read of a tampered, replaced or missing file with a clear error', async () => {
    const first = await sut.save('a/1.dump', writes(randomBytes(100_000)));
    const second = await sut.save('a/2.dump', writes(randomBytes(100_000)));
    const path = join(dir, 'a/1.dump');
    const original = readFileSync(path);

    const tampered = Buffer.from(original);
    tampered[70_000] ^= 1;
    writeFileSync(path, tampered);
    await expect(readAll(await sut.open('a/1.dump', first.sha256))).rejects.toThrow(
      BackupCorruptError,
    );

    // Another well-sealed file in its place: only the recorded SHA-256 can tell.
    writeFileSync(path, readFileSync(join(dir, 'a/2.dump')));
    await expect(readAll(await sut.open('a/1.dump', first.sha256))).rejects.toThrow(
      /does not match its recorded SHA-256/,
    );
    expect((await readAll(await sut.open('a/1.dump', second.sha256))).length).toBe(100_000);

    writeFileSync(path, original.subarray(0, original.length - 100));
    await expect(readAll(await sut.open('a/1.dump', first.sha256))).rejects.toThrow(
      BackupCorruptError,
    );
    await expect(sut.open('a/3.dump', first.sha256)).rejects.toThrow(BackupFileNotFoundError);
  });
});

/** The whole path on real servers: pg_dump → seal → S3 multipart upload → download → open → pg_restore. */
describe('BackupFiles progress, verify and remove', () => {
  let dir: string;
  let sut: BackupFiles;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbaas-backup-files-'));
    sut = new BackupFiles(new LocalDirStorage(dir), key);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the sealed bytes so far while a dump runs, growing, and stops at the end', async () => {
    const seen: number[] = [];
    let wrote = 0;
    // Each piece is written only once the progress saw the one before: no clock involved.
    const saved = await sut.save(
      'p.dump',
      async (out) => {
        for (let i = 0; i < 4; i++) {
          out.write(randomBytes(200_000));
          wrote++;
          while (seen.length < wrote || seen[seen.length - 1] === 0)
            await new Promise((resolve) => setImmediate(resolve));
        }
        out.end();
      },
      (bytes) => seen.push(bytes),
      1,
    );
    const afterEnd = seen.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.length).toBe(afterEnd);
    expect(seen.filter((b, i) => i > 0 && b < seen[i - 1])).toEqual([]);
    expect(Math.max(...seen)).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThanOrEqual(saved.sizeInBytes);
  });

  it('verify reads a whole file: passes a good one, throws on a flipped byte', async () => {
    const saved = await sut.save('v.dump', writes(randomBytes(300_000)));
    await sut.verify('v.dump', saved.sha256);
    const path = join(dir, 'v.dump');
    const bytes = readFileSync(path);
    bytes[bytes.length - 100] ^= 0x80;
    writeFileSync(path, bytes);
    await expect(sut.verify('v.dump', saved.sha256)).rejects.toBeInstanceOf(BackupCorruptError);
  });

  it('verify refuses a file sealed with another key, and one with no whole header', async () => {
    const saved = await sut.save('k.dump', writes(randomBytes(10_000)));
    // The same bytes, as recorded: only the key id in the header tells.
    const otherKey = new BackupFiles(
      new LocalDirStorage(dir),
      BackupKey.fromSecretKey(randomBytes(32)),
    );
    await expect(otherKey.verify('k.dump', saved.sha256)).rejects.toThrow(/another key/);
    const path = join(dir, 'k.dump');
    writeFileSync(path, readFileSync(path).subarray(0, 20));
    const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
    await expect(sut.verify('k.dump', sha)).rejects.toThrow('no header');
  });

  it('remove takes the file and the partial files a killed write of it left', async () => {
    await sut.save('x/a.dump', writes(randomBytes(1000)));
    writeFileSync(join(dir, 'x', '.a.dump.0123456789ab.partial'), 'cut');
    writeFileSync(join(dir, 'x', '.b.dump.0123456789ab.partial'), 'another file’s');
    await sut.remove('x/a.dump');
    expect(readdirSync(join(dir, 'x'))).toEqual(['.b.dump.0123456789ab.partial']);
  });
});

describe('BackupFiles with PostgreSQL and an S3-compatible bucket', () => {
  let pg: EngineServer;
  let s3: S3Server;
  let storage: S3BucketStorage;

  const query = async (database: string, sql: string) => {
    const client = new Client({ connectionString: pg.url.replace(/\/postgres$/, `/${database}`) });
    await client.connect();
    try {
      return (await client.query(sql)).rows as unknown[];
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    [pg, s3] = await Promise.all([startPostgres(), startS3()]);
    storage = new S3BucketStorage({ ...s3, prefix: '', forcePathStyle: true, partSize: 5 << 20 });
  }, 120_000);
  afterAll(async () => {
    storage?.destroy();
    await Promise.all([pg?.destroy(), s3?.destroy()]);
  }, 120_000);

  it('backs up and restores a database of several parts through the bucket', async () => {
    const target = targetOf(pg);
    await query('postgres', 'CREATE DATABASE shop');
    // Random bytes do not compress: the dump is over two 5 MiB parts.
    await query(
      'shop',
      `CREATE TABLE blobs AS SELECT i AS id, decode(string_agg(md5(random()::text || i || j), ''), 'hex') AS data
       FROM generate_series(1, 700) i, generate_series(1, 1000) j GROUP BY i`,
    );
    const before = checksum(await query('shop', 'SELECT md5(data) FROM blobs ORDER BY id'));
    const tool = new PostgresDumpTool();
    const sut = new BackupFiles(storage, key);

    const saved = await sut.save('prod/shop/1.dump', (out) => tool.dump(target, 'shop', out));
    expect(saved.sizeInBytes).toBeGreaterThan(10 << 20);

    await query('postgres', 'CREATE DATABASE shop_copy');
    await tool.restore(target, 'shop_copy', await sut.open('prod/shop/1.dump', saved.sha256));
    expect(checksum(await query('shop_copy', 'SELECT md5(data) FROM blobs ORDER BY id'))).toBe(
      before,
    );

    await sut.delete('prod/shop/1.dump');
    expect(await sut.exists('prod/shop/1.dump')).toBe(false);
  });
});
