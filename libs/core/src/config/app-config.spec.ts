import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'dbaas-config-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('defaults to port 8000, 7 days of quarantine and the embedded store with a generated key', () => {
    const sut = loadConfig({ DBAAS_DATA_DIR: dataDir });
    expect(sut).toMatchObject({
      port: 8000,
      quarantineRetentionDays: 7,
      reconcileIntervalSeconds: 60,
      backupJobIntervalSeconds: 60,
      databaseUrl: undefined,
      seedSampleData: true,
      seedSampleDatabases: false,
    });
    expect(sut.secretKey).toHaveLength(32);
    expect(statSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(loadConfig({ DBAAS_DATA_DIR: dataDir }).secretKey.equals(sut.secretKey)).toBe(true);
  });

  it('requires a key with PostgreSQL, and does not seed sample data there by default', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://h/db' })).toThrow(/DBAAS_SECRET_KEY/);
    const sut = loadConfig({ DATABASE_URL: 'postgres://h/db', DBAAS_SECRET_KEY: 'ab'.repeat(32) });
    expect(sut.seedSampleData).toBe(false);
    expect(
      loadConfig({
        DATABASE_URL: 'postgres://h/db',
        DBAAS_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
      }).secretKey,
    ).toHaveLength(32);
  });

  it('creates the sample databases on the local engines only when asked', () => {
    const asked = (value?: string) =>
      loadConfig({ DBAAS_DATA_DIR: dataDir, DBAAS_SAMPLE_DATABASES: value }).seedSampleDatabases;
    expect(asked(undefined)).toBe(false);
    expect(asked('')).toBe(false);
    expect(asked('false')).toBe(false);
    expect(asked('true')).toBe(true);
    expect(() => asked('sure')).toThrow(/DBAAS_SAMPLE_DATABASES must be true or false/);
  });

  it.each([
    ['PORT', '0'],
    ['PORT', '8000x'],
    ['QUARANTINE_RETENTION_DAYS', 'seven'],
    ['LOG_LEVEL', 'chatty'],
    ['DBAAS_SAMPLE_DATA', 'perhaps'],
    ['DBAAS_TRUST_PROXY', 'my-proxy'],
    ['DBAAS_TRUST_PROXY', '10.0.0.0/33'],
    ['DBAAS_TRUST_PROXY', 'loopback,'],
    ['DBAAS_PUBLIC_URL', 'dbaas.example.com'],
    ['DBAAS_PUBLIC_URL', 'ftp://dbaas.example.com'],
    ['DBAAS_PUBLIC_URL', 'https://dbaas.example.com/?x=1'],
    ['DBAAS_PUBLIC_URL', 'https://user:pw@dbaas.example.com'],
    ['DBAAS_ALLOWED_ORIGINS', 'console.example.com'],
    ['DBAAS_ALLOWED_ORIGINS', 'https://console.example.com/app'],
    ['DBAAS_ALLOWED_ORIGINS', 'https://a.example,'],
    ['DBAAS_ALLOWED_ORIGINS', '*'],
    ['DBAAS_ALLOWED_ORIGINS', 'null'],
    ['DBAAS_RECONCILE_INTERVAL_SECONDS', '0'],
    ['DBAAS_RECONCILE_INTERVAL_SECONDS', 'often'],
    ['DBAAS_BACKUP_JOB_INTERVAL_SECONDS', '0'],
    ['DBAAS_BACKUP_JOB_INTERVAL_SECONDS', '3601'],
  ])('names %s when it is %j', (name, value) => {
    expect(() => loadConfig({ DBAAS_DATA_DIR: dataDir, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ DBAAS_DATA_DIR: dataDir, [name]: value })).toThrow(name);
  });

  it('believes forwarded headers from loopback proxies only, unless told otherwise', () => {
    const trust = (value?: string) =>
      loadConfig({ DBAAS_DATA_DIR: dataDir, DBAAS_TRUST_PROXY: value }).trustProxy;
    expect(trust()).toEqual(['loopback']);
    expect(trust('true')).toBe(true);
    expect(trust('false')).toBe(false);
    expect(trust('10.0.0.0/8, 192.168.1.7,loopback, fd00::/8')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'loopback',
      'fd00::/8',
    ]);
  });

  it('keeps DBAAS_PUBLIC_URL without its trailing slash, and the allowed origins as browsers send them', () => {
    const sut = loadConfig({
      DBAAS_DATA_DIR: dataDir,
      DBAAS_PUBLIC_URL: 'https://DBaaS.example.com:443/dbaas/',
      DBAAS_ALLOWED_ORIGINS: 'https://Console.example.com/, http://localhost:3000',
    });
    expect(sut.publicUrl).toBe('https://dbaas.example.com/dbaas');
    expect(sut.allowedOrigins).toEqual(['https://console.example.com', 'http://localhost:3000']);
    expect(loadConfig({ DBAAS_DATA_DIR: dataDir })).toMatchObject({
      publicUrl: undefined,
      allowedOrigins: [],
    });
  });
  describe('backup storage', () => {
    const s3 = {
      DBAAS_BACKUP_S3_BUCKET: 'dbaas-backups',
      DBAAS_BACKUP_S3_ENDPOINT: 'http://127.0.0.1:9000',
      DBAAS_BACKUP_S3_ACCESS_KEY_ID: 'key-id',
      DBAAS_BACKUP_S3_SECRET_ACCESS_KEY: 'secret',
    };

    it('defaults to <data dir>/backups, or DBAAS_BACKUP_DIR', () => {
      expect(loadConfig({ DBAAS_DATA_DIR: dataDir }).backupStorage).toEqual({
        kind: 'local',
        dir: join(dataDir, 'backups'),
      });
      const dir = join(dataDir, 'elsewhere');
      expect(loadConfig({ DBAAS_DATA_DIR: dataDir, DBAAS_BACKUP_DIR: dir }).backupStorage).toEqual({
        kind: 'local',
        dir,
      });
    });

    it('takes an S3-compatible bucket, path-style when an endpoint is given', () => {
      expect(loadConfig({ DBAAS_DATA_DIR: dataDir, ...s3 }).backupStorage).toEqual({
        kind: 's3',
        bucket: 'dbaas-backups',
        prefix: '',
        endpoint: 'http://127.0.0.1:9000',
        region: 'us-east-1',
        accessKeyId: 'key-id',
        secretAccessKey: 'secret',
        forcePathStyle: true,
      });
      expect(
        loadConfig({
          DBAAS_DATA_DIR: dataDir,
          DBAAS_BACKUP_S3_BUCKET: 'b-1',
          DBAAS_BACKUP_S3_PREFIX: 'prod/dbaas/',
        }).backupStorage,
      ).toMatchObject({
        kind: 's3',
        prefix: 'prod/dbaas/',
        endpoint: undefined,
        forcePathStyle: false,
      });
    });

    it.each([
      [
        { DBAAS_BACKUP_S3_ENDPOINT: 'http://s3' },
        /DBAAS_BACKUP_S3_ENDPOINT is set but DBAAS_BACKUP_S3_BUCKET is not/,
      ],
      [{ ...s3, DBAAS_BACKUP_DIR: '/x' }, /not both/],
      [{ ...s3, DBAAS_BACKUP_S3_BUCKET: 'a/b' }, /DBAAS_BACKUP_S3_BUCKET/],
      [{ ...s3, DBAAS_BACKUP_S3_PREFIX: '../' }, /DBAAS_BACKUP_S3_PREFIX/],
      [{ ...s3, DBAAS_BACKUP_S3_ENDPOINT: 'ftp://s3' }, /DBAAS_BACKUP_S3_ENDPOINT/],
      [{ ...s3, DBAAS_BACKUP_S3_REGION: 'Mars 1' }, /DBAAS_BACKUP_S3_REGION/],
      [{ ...s3, DBAAS_BACKUP_S3_SECRET_ACCESS_KEY: '' }, /both/],
      [{ ...s3, DBAAS_BACKUP_S3_FORCE_PATH_STYLE: 'maybe' }, /DBAAS_BACKUP_S3_FORCE_PATH_STYLE/],
    ])('stops the boot on %j', (env, message) => {
      expect(() => loadConfig({ DBAAS_DATA_DIR: dataDir, ...env })).toThrow(message);
    });

    it('never puts the secret access key in an error', () => {
      expect(() =>
        loadConfig({ DBAAS_DATA_DIR: dataDir, ...s3, DBAAS_BACKUP_S3_ACCESS_KEY_ID: '' }),
      ).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret') }));
    });
  });
});
