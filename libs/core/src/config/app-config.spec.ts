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
      databaseUrl: undefined,
      seedSampleData: true,
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

  it.each([
    ['PORT', '0'],
    ['PORT', '8000x'],
    ['QUARANTINE_RETENTION_DAYS', 'seven'],
    ['LOG_LEVEL', 'chatty'],
    ['DBAAS_SAMPLE_DATA', 'perhaps'],
    ['DBAAS_TRUST_PROXY', 'my-proxy'],
    ['DBAAS_TRUST_PROXY', '10.0.0.0/33'],
    ['DBAAS_TRUST_PROXY', 'loopback,'],
    ['DBAAS_RECONCILE_INTERVAL_SECONDS', '0'],
    ['DBAAS_RECONCILE_INTERVAL_SECONDS', 'often'],
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
});
