/**
 * The sample catalog of SPEC §6. Order matters: ids are assigned in this order, and the
 * seed's examples rely on plan 1 and environment 1 being the PostgreSQL plan and `dev`.
 */
export const SAMPLE_PASSWORD = '123456';

export const SAMPLE_ENVIRONMENTS = ['dev', 'prod'];

export interface SampleEngine {
  /** An engine type with a provider; a new engine does not need a sample. */
  type: string;
  version: string;
  plan: string;
  description: string;
  sizeLimitInBytes: number;
  /** UTC hour of the daily scheduled backup (null = none) and days backups are kept. */
  backupHour: number | null;
  backupRetentionDays: number;
  /** Where the sample infra points unless overridden by `DBAAS_SAMPLE_<TYPE>_URL`. */
  defaultUrl: string;
}

const GiB = 1024 ** 3;

export const SAMPLE_ENGINES: SampleEngine[] = [
  {
    type: 'postgresql',
    version: '15',
    plan: 'postgresql-small',
    description: 'PostgreSQL, no size limit',
    sizeLimitInBytes: 0,
    backupHour: 2,
    backupRetentionDays: 7,
    defaultUrl: 'postgresql://postgres@127.0.0.1:5432',
  },
  {
    type: 'mysql',
    version: '10.11',
    plan: 'mysql-small',
    description: 'MySQL/MariaDB, 1 GiB',
    sizeLimitInBytes: GiB,
    backupHour: 3,
    backupRetentionDays: 7,
    defaultUrl: 'mysql://root@127.0.0.1:3306',
  },
  {
    type: 'mongodb',
    version: '7.0',
    plan: 'mongodb-small',
    description: 'MongoDB, 1 GiB',
    sizeLimitInBytes: GiB,
    backupHour: null,
    backupRetentionDays: 7,
    defaultUrl: 'mongodb://admin@127.0.0.1:27017',
  },
  {
    type: 'redis',
    version: '7.0',
    plan: 'redis-small',
    description: 'Redis key prefix, 100 MiB',
    sizeLimitInBytes: 100 * 1024 ** 2,
    backupHour: 4,
    backupRetentionDays: 3,
    defaultUrl: 'redis://default@127.0.0.1:6379',
  },
];

export interface SampleInfraTarget {
  addresses: string[];
  adminUser: string;
  adminPassword: string;
}

/** `scheme://user:password@host:port[,host:port]` → addresses and admin login. */
export function parseInfraUrl(raw: string, variable: string): SampleInfraTarget {
  const match = /^[a-z]+:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)/i.exec(raw.trim());
  if (!match) throw new Error(`${variable} must look like scheme://user:password@host:port`);
  const [, user = '', password = '', hosts] = match;
  return {
    addresses: hosts.split(','),
    adminUser: decodeURIComponent(user),
    adminPassword: decodeURIComponent(password),
  };
}

export function sampleInfraTarget(engine: SampleEngine, env = process.env): SampleInfraTarget {
  const variable = `DBAAS_SAMPLE_${engine.type.toUpperCase()}_URL`;
  return parseInfraUrl(env[variable] || engine.defaultUrl, variable);
}

/**
 * Created on every infra that answers by `reset-data --with-databases` (or the API's first
 * start with DBAAS_SAMPLE_DATABASES=true); a plain reset-data creates none. Database 1 is the PostgreSQL one, so
 * the seed's `/api/database/1/` and `/api/credential/1/` examples work as written.
 */
export const SAMPLE_DATABASES: { name: string; engine: SampleEngine['type']; team1?: boolean }[] = [
  { name: 'my_first_database', engine: 'postgresql' },
  { name: 'sample_mysql', engine: 'mysql' },
  { name: 'sample_redis', engine: 'redis' },
  { name: 'sample_mongodb', engine: 'mongodb' },
  { name: 'team1_database', engine: 'postgresql', team1: true },
];
