import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { makePrivateDir } from '../files/private-dir';

/** Everything the app reads from the environment, validated once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  /** PostgreSQL metadata store (DATABASE_URL); undefined means the embedded PostgreSQL in dataDir. */
  databaseUrl?: string;
  dataDir: string;
  quarantineRetentionDays: number;
  /** 32-byte AES-256-GCM key for secrets at rest. */
  secretKey: Buffer;
  bodyLimitBytes: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug';
  /** How long a measured used size is served from cache. */
  usedSizeCacheSeconds: number;
  /** How often the reconciler converges interrupted work and repairs drift on the engines. */
  reconcileIntervalSeconds: number;
  /**
   * `DBAAS_BACKUP_JOB_INTERVAL_SECONDS`: how often the scheduled-backup job looks for
   * databases whose plan's backup hour has come, and the expiry job for backups to remove.
   */
  backupJobIntervalSeconds: number;
  /** How often the sizes of databases with a size limit are measured and enforced. */
  sizeCheckIntervalSeconds: number;
  /** Seed the sample data when the store is empty (default: on for the embedded store only). */
  seedSampleData: boolean;
  /**
   * `DBAAS_SAMPLE_DATABASES`: the seed also creates the sample databases on the local engines
   * (default off: the quick start touches no engine unless asked).
   */
  seedSampleDatabases: boolean;
  /** When set, `/metrics` wants `Authorization: Bearer <token>`; unset, it is open. */
  metricsToken?: string;
  /**
   * Whose X-Forwarded-For/-Proto/-Host the API believes (Fastify's trustProxy): true (any
   * client), false (none), or addresses, CIDR ranges and `loopback`/`linklocal`/`uniquelocal`.
   * The client address they give keys the login throttle, so an untrusted client must not
   * be able to choose it.
   */
  trustProxy: boolean | string[];
  /**
   * `DBAAS_PUBLIC_URL`: the API's own address (`https://dbaas.example.com`, maybe with a path
   * prefix), without a trailing slash. When set, absolute links are built from it instead of
   * the request's Host, and browser writes from its origin are accepted.
   */
  publicUrl?: string;
  /** Origins (`https://console.example.com`) whose browser pages may write through the API. */
  allowedOrigins: string[];
  /** Where backup files go: a local folder (default) or an S3-compatible bucket. */
  backupStorage: BackupStorageConfig;
}

/** `DBAAS_BACKUP_DIR`, or `DBAAS_BACKUP_S3_*` when `DBAAS_BACKUP_S3_BUCKET` is set. */
export type BackupStorageConfig =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      /** Key prefix inside the bucket (`dbaas/`), or ''. */
      prefix: string;
      /** An S3-compatible server's URL; undefined means AWS S3 itself. */
      endpoint?: string;
      region: string;
      /** Both or neither: neither means the AWS SDK's default chain (AWS_* variables, roles). */
      accessKeyId?: string;
      secretAccessKey?: string;
      /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (most S3-compatible servers). */
      forcePathStyle: boolean;
    };

/** A bad configuration value: the message is one line and names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${env[name]}")`);
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** DBAAS_TRUST_PROXY: true, false, or a comma-separated list of addresses, CIDR ranges and names. */
function trustedProxies(env: Env, name: string): boolean | string[] {
  const raw = env[name]?.trim();
  if (!raw) return ['loopback'];
  if (/^(1|0|true|false|yes|no|on|off)$/i.test(raw)) return boolean(env, name, false);
  const items = raw.split(',').map((item) => item.trim());
  for (const item of items) {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address);
    const validBits =
      bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_NAMES.has(item) && (!family || !validBits || extra !== undefined)) {
      throw new ConfigError(
        `${name} must be true, false, or a comma-separated list of addresses, CIDR ranges, loopback, linklocal and uniquelocal (got "${item}")`,
      );
    }
  }
  return items;
}

/** DBAAS_PUBLIC_URL: an http(s) URL without query or fragment; the trailing slash is dropped. */
function publicUrl(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (
    !url ||
    !/^https?:$/.test(url.protocol) ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  ) {
    throw new ConfigError(
      `${name} must be an http:// or https:// URL without query, fragment or login (got "${raw}")`,
    );
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** DBAAS_ALLOWED_ORIGINS: comma-separated origins, `scheme://host[:port]`, kept as browsers send them. */
function allowedOrigins(env: Env, name: string): string[] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  return raw.split(',').map((item) => {
    let url: URL | undefined;
    try {
      url = new URL(item.trim());
    } catch {
      url = undefined;
    }
    if (
      !url ||
      !/^https?:$/.test(url.protocol) ||
      url.pathname !== '/' ||
      url.search ||
      url.hash ||
      url.username ||
      url.password
    ) {
      throw new ConfigError(
        `${name} must be a comma-separated list of origins like https://console.example.com (got "${item.trim()}")`,
      );
    }
    return url.origin;
  });
}

const S3_VARIABLES = [
  'DBAAS_BACKUP_S3_PREFIX',
  'DBAAS_BACKUP_S3_ENDPOINT',
  'DBAAS_BACKUP_S3_REGION',
  'DBAAS_BACKUP_S3_ACCESS_KEY_ID',
  'DBAAS_BACKUP_S3_SECRET_ACCESS_KEY',
  'DBAAS_BACKUP_S3_FORCE_PATH_STYLE',
];

/** DBAAS_BACKUP_DIR (default `<data dir>/backups`) or the DBAAS_BACKUP_S3_* bucket. */
function backupStorage(env: Env, dataDir: string): BackupStorageConfig {
  const bucket = env.DBAAS_BACKUP_S3_BUCKET?.trim();
  if (!bucket) {
    const stray = S3_VARIABLES.find((name) => env[name]?.trim());
    if (stray) throw new ConfigError(`${stray} is set but DBAAS_BACKUP_S3_BUCKET is not`);
    return {
      kind: 'local',
      dir: resolve(env.DBAAS_BACKUP_DIR?.trim() || join(dataDir, 'backups')),
    };
  }
  if (env.DBAAS_BACKUP_DIR?.trim()) {
    throw new ConfigError('Set DBAAS_BACKUP_DIR or DBAAS_BACKUP_S3_BUCKET, not both');
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,253}[a-zA-Z0-9]$/.test(bucket)) {
    throw new ConfigError(`DBAAS_BACKUP_S3_BUCKET is not a bucket name (got "${bucket}")`);
  }
  const prefix = env.DBAAS_BACKUP_S3_PREFIX?.trim() ?? '';
  const folders = prefix.split('/').slice(0, -1);
  if (
    prefix &&
    (!prefix.endsWith('/') ||
      !folders.every((f) => /^[a-zA-Z0-9._-]+$/.test(f) && !/^\.+$/.test(f)))
  ) {
    throw new ConfigError(
      `DBAAS_BACKUP_S3_PREFIX must be folder names ending with a slash, like dbaas/ (got "${prefix}")`,
    );
  }
  const endpoint = publicUrl(env, 'DBAAS_BACKUP_S3_ENDPOINT');
  const region = env.DBAAS_BACKUP_S3_REGION?.trim() || 'us-east-1';
  if (!/^[a-z0-9-]{2,40}$/.test(region)) {
    throw new ConfigError(`DBAAS_BACKUP_S3_REGION is not a region name (got "${region}")`);
  }
  const accessKeyId = env.DBAAS_BACKUP_S3_ACCESS_KEY_ID?.trim() || undefined;
  const secretAccessKey = env.DBAAS_BACKUP_S3_SECRET_ACCESS_KEY?.trim() || undefined;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new ConfigError(
      'Set both DBAAS_BACKUP_S3_ACCESS_KEY_ID and DBAAS_BACKUP_S3_SECRET_ACCESS_KEY, or neither',
    );
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: boolean(env, 'DBAAS_BACKUP_S3_FORCE_PATH_STYLE', Boolean(endpoint)),
  };
}

function parseKey(raw: string, name: string): Buffer {
  const trimmed = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new ConfigError(`${name} must be 32 bytes, as 64 hex digits or base64`);
  }
  return key;
}

/** The embedded store keeps its own key next to its data, readable by the owner only. */
function embeddedKey(dataDir: string): Buffer {
  const file = join(dataDir, 'secret.key');
  makePrivateDir(dataDir);
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return parseKey(readFileSync(file, 'utf8'), `the key file ${file}`);
}

export function loadConfig(env: Env = process.env): AppConfig {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const dataDir = resolve(env.DBAAS_DATA_DIR?.trim() || '.dbaas');
  const logLevel = (env.LOG_LEVEL?.trim() || 'log') as AppConfig['logLevel'];
  if (!['error', 'warn', 'log', 'debug'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of error, warn, log, debug (got "${logLevel}")`);
  }
  let secretKey: Buffer;
  if (env.DBAAS_SECRET_KEY) {
    secretKey = parseKey(env.DBAAS_SECRET_KEY, 'DBAAS_SECRET_KEY');
  } else if (databaseUrl) {
    throw new ConfigError(
      'DBAAS_SECRET_KEY is required with DATABASE_URL (32 bytes as 64 hex digits, e.g. `openssl rand -hex 32`)',
    );
  } else {
    secretKey = embeddedKey(dataDir);
  }
  const metricsToken = env.DBAAS_METRICS_TOKEN?.trim() || undefined;
  if (metricsToken && !/^[\x21-\x7e]{16,256}$/.test(metricsToken)) {
    throw new ConfigError(
      'DBAAS_METRICS_TOKEN must be 16 to 256 printable characters without spaces (e.g. `openssl rand -hex 24`)',
    );
  }
  return {
    port: integer(env, 'PORT', 8000, 1, 65535),
    // With the sample data (admin/123456) the API answers this machine only, unless told otherwise.
    host:
      env.HOST?.trim() ||
      (boolean(env, 'DBAAS_SAMPLE_DATA', !databaseUrl) ? '127.0.0.1' : '0.0.0.0'),
    databaseUrl,
    dataDir,
    quarantineRetentionDays: integer(env, 'QUARANTINE_RETENTION_DAYS', 7, 0, 3650),
    secretKey,
    bodyLimitBytes: integer(env, 'DBAAS_BODY_LIMIT_BYTES', 1048576, 1024, 104857600),
    logLevel,
    usedSizeCacheSeconds: integer(env, 'DBAAS_USED_SIZE_CACHE_SECONDS', 30, 0, 86400),
    reconcileIntervalSeconds: integer(env, 'DBAAS_RECONCILE_INTERVAL_SECONDS', 60, 1, 86400),
    backupJobIntervalSeconds: integer(env, 'DBAAS_BACKUP_JOB_INTERVAL_SECONDS', 60, 1, 3600),
    sizeCheckIntervalSeconds: integer(env, 'DBAAS_SIZE_CHECK_INTERVAL_SECONDS', 300, 1, 86400),
    seedSampleData: boolean(env, 'DBAAS_SAMPLE_DATA', !databaseUrl),
    seedSampleDatabases: boolean(env, 'DBAAS_SAMPLE_DATABASES', false),
    metricsToken,
    trustProxy: trustedProxies(env, 'DBAAS_TRUST_PROXY'),
    publicUrl: publicUrl(env, 'DBAAS_PUBLIC_URL'),
    allowedOrigins: allowedOrigins(env, 'DBAAS_ALLOWED_ORIGINS'),
    backupStorage: backupStorage(env, dataDir),
  };
}
