import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Server, startS3 } from '../../../../test/harness/s3.harness';
import { BackupFileNotFoundError } from '../backup-errors';
import { BackupStorage } from './backup-storage';
import { LocalDirStorage } from './local-dir.storage';
import { S3BucketStorage } from './s3-bucket.storage';

const MB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** A source that sends `first`, then fails: a dump cut short. */
function failingSource(first: Buffer): Readable {
  const source = new PassThrough();
  source.write(first);
  setImmediate(() => source.destroy(new Error('dump failed midway')));
  return source;
}

/** The names of the S3 commands sent from now on (a spy: the commands still go out). */
function commandsSent(): () => string[] {
  const spy = jest.spyOn(S3Client.prototype, 'send');
  return () => {
    const names = spy.mock.calls.map(([command]) => command.constructor.name);
    spy.mockRestore();
    return names;
  };
}

/** The same promises from both strategies, on a real folder and a real S3-compatible server. */
describe.each([
  ['local folder', 'local'],
  ['S3-compatible bucket', 's3'],
] as const)('backup storage: %s', (_name, kind) => {
  let dir: string;
  let s3: S3Server | undefined;
  let sut: BackupStorage;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbaas-backup-storage-'));
    if (kind === 's3') {
      s3 = await startS3();
      sut = new S3BucketStorage({
        ...s3,
        prefix: 'dbaas/',
        forcePathStyle: true,
        partSize: 5 * MB,
      });
    } else {
      sut = new LocalDirStorage(join(dir, 'backups'));
    }
  }, 120_000);
  afterAll(async () => {
    if (sut instanceof S3BucketStorage) sut.destroy();
    await s3?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('writes a stream, reads it back as a stream, lists it and deletes it', async () => {
    const data = randomBytes(300 * 1024);
    await expect(sut.write('prod/db1/1.dump', Readable.from([data]))).resolves.toEqual({
      sizeInBytes: data.length,
    });
    await sut.write('prod/db2/2.dump', Readable.from([Buffer.from('two')]));
    await sut.write('dev/db3/3.dump', Readable.from([Buffer.alloc(0)]));

    expect(await sut.exists('prod/db1/1.dump')).toBe(true);
    expect(sha256(await readAll(await sut.read('prod/db1/1.dump')))).toBe(sha256(data));
    expect(await sut.list('prod/')).toEqual(['prod/db1/1.dump', 'prod/db2/2.dump']);
    expect(await sut.list('')).toEqual(['dev/db3/3.dump', 'prod/db1/1.dump', 'prod/db2/2.dump']);
    expect((await readAll(await sut.read('dev/db3/3.dump'))).length).toBe(0);

    await sut.delete('prod/db1/1.dump');
    await sut.delete('prod/db1/1.dump'); // already gone: nothing happens
    expect(await sut.exists('prod/db1/1.dump')).toBe(false);
    await expect(sut.read('prod/db1/1.dump')).rejects.toThrow(BackupFileNotFoundError);
    expect(await sut.list('prod/')).toEqual(['prod/db2/2.dump']);
  });

  it('leaves no file when the source fails midway', async () => {
    const sent = commandsSent();
    const write = sut.write('prod/db4/4.dump', failingSource(randomBytes(6 * MB)));
    await expect(write).rejects.toThrow();
    if (kind === 's3') {
      // Over one part: a multipart upload was started, and aborted, its parts removed.
      expect(sent()).toEqual(expect.arrayContaining(['AbortMultipartUploadCommand']));
    } else {
      sent();
      expect(readdirSync(join(dir, 'backups/prod/db4'))).toEqual([]); // no partial file either
    }
    expect(await sut.exists('prod/db4/4.dump')).toBe(false);
    expect(await sut.list('prod/db4/')).toEqual([]);
  });

  it('refuses keys that could leave the folder or hide a file', async () => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', '.hidden', 'a//b', 'a/', 'a b']) {
      await expect(sut.write(key, Readable.from([Buffer.from('x')]))).rejects.toThrow(
        /Not a backup storage key/,
      );
      await expect(sut.read(key)).rejects.toThrow(/Not a backup storage key/);
    }
  });

  if (kind === 'local') {
    it('keeps files 0600 in 0700 folders', async () => {
      await sut.write('prod/db5/5.dump', Readable.from([Buffer.from('x')]));
      expect(statSync(join(dir, 'backups')).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'backups/prod/db5')).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'backups/prod/db5/5.dump')).mode & 0o777).toBe(0o600);
    });

    it('shows a write in progress (or killed) as nothing, until it completes', async () => {
      const local = sut as LocalDirStorage;
      const source = new PassThrough();
      const write = local.write('prod/db6/6.dump', source);
      source.write(randomBytes(MB));
      const folder = join(dir, 'backups/prod/db6');
      while (!existsSync(folder) || readdirSync(folder).length === 0) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(readdirSync(folder)).toEqual([
        expect.stringMatching(/^\.6\.dump\.[0-9a-f]+\.partial$/),
      ]);
      expect(await local.exists('prod/db6/6.dump')).toBe(false);
      expect(await local.list('prod/db6/')).toEqual([]);
      // What a SIGKILL leaves is exactly this partial file: the sweep removes it once old.
      expect(await local.removePartials(60_000)).toBe(0);
      expect(await local.removePartials(60_000, Date.now() + 120_000)).toBe(1);
      source.destroy(new Error('killed'));
      await expect(write).rejects.toThrow();
      expect(existsSync(join(folder, '6.dump'))).toBe(false);
    });
  }

  if (kind === 's3') {
    it('uploads a file larger than the part size in parts, and streams it back', async () => {
      const data = randomBytes(12 * MB + 123); // three parts of 5 MiB
      const pieces = Array.from({ length: 13 }, (_, i) => data.subarray(i * MB, (i + 1) * MB));
      const sent = commandsSent();
      await expect(sut.write('prod/big/1.dump', Readable.from(pieces))).resolves.toEqual({
        sizeInBytes: data.length,
      });
      expect(sent()).toEqual([
        'CreateMultipartUploadCommand',
        'UploadPartCommand',
        'UploadPartCommand',
        'UploadPartCommand',
        'CompleteMultipartUploadCommand',
      ]);
      const download = await sut.read('prod/big/1.dump');
      const hash = createHash('sha256');
      let reads = 0;
      for await (const part of download) {
        hash.update(part as Buffer);
        reads++;
      }
      expect(reads).toBeGreaterThan(1); // it came as a stream, not as one buffer
      expect(hash.digest('hex')).toBe(sha256(data));
      await sut.delete('prod/big/1.dump');
      expect(await sut.exists('prod/big/1.dump')).toBe(false);
    });

    it('removeLeftovers: a server without ListMultipartUploads (s3rver) leaves the uploads to the lifecycle rule', async () => {
      // s3rver answers NotImplemented to ListMultipartUploads, so the abort of an upload a
      // killed write left is not provable here; what is: the recovery is not stopped by it.
      console.log('S3 removeLeftovers abort path unproven: s3rver has no ListMultipartUploads');
      const client = new S3Client({
        region: s3!.region,
        endpoint: s3!.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: s3!.accessKeyId, secretAccessKey: s3!.secretAccessKey },
      });
      try {
        await client.send(
          new CreateMultipartUploadCommand({ Bucket: s3!.bucket, Key: 'dbaas/prod/cut/1.dump' }),
        );
        await expect(sut.removeLeftovers('prod/cut/1.dump')).resolves.toBeUndefined();
        expect(await sut.exists('prod/cut/1.dump')).toBe(false);
      } finally {
        client.destroy();
      }
    });

    it('is refused with an unknown access key (s3rver checks the key id, not V4 signatures)', async () => {
      const wrong = new S3BucketStorage({
        ...s3!,
        accessKeyId: 'NOT-A-KEY',
        prefix: '',
        forcePathStyle: true,
      });
      try {
        await expect(wrong.write('x.dump', Readable.from([Buffer.from('x')]))).rejects.toThrow(
          /access key/i,
        );
        expect(await sut.exists('x.dump')).toBe(false);
      } finally {
        wrong.destroy();
      }
    });
  }
});
