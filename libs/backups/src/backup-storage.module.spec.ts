import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Test } from '@nestjs/testing';
import { CoreModule, loadConfig } from '@dbaas/core';
import { BackupFiles } from './backup-files';
import { BACKUP_STORAGE } from './backups.constants';
import { BackupStorageModule } from './backup-storage.module';
import { LocalDirStorage } from './storage/local-dir.storage';
import { S3BucketStorage } from './storage/s3-bucket.storage';

describe('BackupStorageModule', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'dbaas-backups-module-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const compile = async (env: Record<string, string>) => {
    const config = loadConfig({ DBAAS_DATA_DIR: dataDir, ...env });
    const moduleRef = await Test.createTestingModule({
      imports: [CoreModule.forRoot(config), BackupStorageModule],
    }).compile();
    return moduleRef;
  };

  it('stores sealed files in <data dir>/backups by default, under the app secret key', async () => {
    const moduleRef = await compile({});
    expect(moduleRef.get(BACKUP_STORAGE)).toBeInstanceOf(LocalDirStorage);
    const sut = moduleRef.get(BackupFiles);
    const data = randomBytes(1000);

    const saved = await sut.save('dev/db/1.dump', (out) => pipeline(Readable.from([data]), out));

    expect(statSync(join(dataDir, 'backups/dev/db/1.dump')).size).toBe(saved.sizeInBytes);
    const parts: Buffer[] = [];
    const collect = new Writable({
      write(chunk: Buffer, _encoding, done) {
        parts.push(chunk);
        done();
      },
    });
    await pipeline(await sut.open('dev/db/1.dump', saved.sha256), collect);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('takes the S3 bucket when one is configured', async () => {
    const moduleRef = await compile({
      DBAAS_BACKUP_S3_BUCKET: 'backups',
      DBAAS_BACKUP_S3_ENDPOINT: 'http://127.0.0.1:9',
      DBAAS_BACKUP_S3_PREFIX: 'dbaas/',
    });
    const storage = moduleRef.get<S3BucketStorage>(BACKUP_STORAGE);
    expect(storage).toBeInstanceOf(S3BucketStorage);
    expect(storage.location).toBe('s3://backups/dbaas/ at http://127.0.0.1:9');
    storage.destroy();
  });
});
