import { UsersService } from '@dbaas/auth';
import { loadConfig } from '@dbaas/core';
import { InfraProbe } from '@dbaas/engines';
import { DatabaseEntity, describeStore, InfraEntity, Role } from '@dbaas/persistence';
import { QuarantineService } from '@dbaas/quarantine';
import { SampleDataService } from '@dbaas/sample-data';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { CliModule } from './cli.module';
import { FailedError, UsageError } from './errors';
import { Progress } from './progress';
import { formatTable } from './table';

/** An engine that neither answers nor refuses within this time counts as unreachable. */
const PING_TIMEOUT_MS = 10_000;

async function withContext<T>(work: (context: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  process.stderr.write(`Metadata store: ${describeStore(config)}\n`);
  const context = await NestFactory.createApplicationContext(CliModule.forRoot(config), {
    logger: ['error', 'warn'],
  });
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}

export async function migrate(): Promise<void> {
  // Creating the context applies pending migrations (PersistenceModule runs them at start).
  await withContext(async () => undefined);
  process.stdout.write('Migrations applied.\n');
}

export async function resetData(options: { withDatabases?: boolean }): Promise<void> {
  const withDatabases = Boolean(options.withDatabases);
  await withContext((context) => context.get(SampleDataService).reset({ withDatabases }));
  process.stdout.write(
    `Sample data recreated: admin/123456 (dba), user/123456 (regular)${withDatabases ? ', with the sample databases' : ''}.\n`,
  );
}

export async function purgeQuarantine(): Promise<void> {
  const progress = new Progress('Purging');
  const result = await withContext((context) =>
    context.get(QuarantineService).purge(new Date(), (done, total, name) => {
      progress.step(done, total, name);
    }),
  );
  process.stdout.write(
    `Purged ${result.purged.length} database(s); ${result.failed.length} failed.\n`,
  );
  if (result.failed.length)
    throw new FailedError(`could not purge: ${result.failed.join(', ')} (retried next run)`);
}

async function readPassword(): Promise<string> {
  if (process.env.DBAAS_NEW_USER_PASSWORD) return process.env.DBAAS_NEW_USER_PASSWORD;
  if (process.stdin.isTTY)
    throw new UsageError('set DBAAS_NEW_USER_PASSWORD or pipe the password on standard input');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export async function createUser(username: string, role: Role, teams: number[]): Promise<void> {
  const password = await readPassword();
  if (password.length < 6) throw new UsageError('the password must have at least 6 characters');
  await withContext(async (context) => {
    const user = await context.get(UsersService).createDirect({ username, password, role, teams });
    process.stdout.write(`Created user ${user.username} (id ${user.id}, ${user.role})\n`);
  });
}

export interface InfraCheck {
  id: number;
  name: string;
  engine: string;
  addresses: string[];
  reachable: boolean;
  version: string | null;
  error: string | null;
  /** How the engine leaves its tenants unprotected (see EngineProvider.securityWarnings). */
  warnings: string[];
}

/**
 * Pings every infra at once with its admin login and runs its engine's security checks,
 * through the same providers as the API.
 */
export async function infraCheck(options: { json?: boolean }): Promise<void> {
  const checks = await withContext(async (context) => {
    const infras = await context
      .get(DataSource)
      .getRepository(InfraEntity)
      .find({ relations: { engine: { engineType: true } }, order: { id: 'ASC' } });
    const probes = context.get(InfraProbe);
    return Promise.all(
      infras.map(async (infra): Promise<InfraCheck> => {
        const row = {
          id: infra.id,
          name: infra.name,
          engine: `${infra.engine.engineType.name} ${infra.engine.version}`,
          addresses: infra.addresses,
        };
        const health = await probes.probe(infra.id, {
          maxAgeMs: 0,
          timeoutMs: PING_TIMEOUT_MS,
          warnings: { maxAgeMs: 0 },
        });
        const { reachable, version, warnings } = health;
        const error = health.error
          ? health.error.message.split('\n')[0] || String(health.error)
          : null;
        return { ...row, reachable, version, error, warnings };
      }),
    );
  });
  if (options.json) process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
  else if (!checks.length) process.stdout.write('No infras registered.\n');
  else
    process.stdout.write(
      formatTable(
        ['ID', 'NAME', 'ENGINE', 'ADDRESSES', 'REACHABLE', 'VERSION/ERROR'],
        checks.map((c) => [
          String(c.id),
          c.name,
          c.engine,
          c.addresses.join(','),
          c.reachable ? 'yes' : 'no',
          (c.reachable ? c.version : c.error) ?? '',
        ]),
      ),
    );
  const warned = checks.filter((c) => c.warnings.length);
  if (!options.json && warned.length) {
    process.stdout.write('\nWarnings:\n');
    for (const c of warned) for (const w of c.warnings) process.stdout.write(`  ${c.name}: ${w}\n`);
  }
  const down = checks.filter((c) => !c.reachable);
  if (down.length)
    throw new FailedError(
      `${down.length} of ${checks.length} infra(s) unreachable: ${down.map((c) => c.name).join(', ')}`,
    );
}

export interface DatabaseRow {
  id: number;
  name: string;
  engine: string;
  environment: string;
  team: string;
  status: string;
  quarantine_dt: string | null;
}

export async function databasesList(options: {
  json?: boolean;
  quarantined?: boolean;
}): Promise<void> {
  const rows = await withContext(async (context) => {
    const query = context
      .get(DataSource)
      .getRepository(DatabaseEntity)
      .createQueryBuilder('database')
      .innerJoinAndSelect('database.environment', 'environment')
      .innerJoinAndSelect('database.team', 'team')
      .innerJoinAndSelect('database.infra', 'infra')
      .innerJoinAndSelect('infra.engine', 'engine')
      .innerJoinAndSelect('engine.engineType', 'engineType')
      .orderBy('database.id', 'ASC');
    if (options.quarantined) query.where('database.quarantine_dt IS NOT NULL');
    const databases = await query.getMany();
    return databases.map((db): DatabaseRow => ({
      id: db.id,
      name: db.name,
      engine: db.infra.engine.engineType.name,
      environment: db.environment.name,
      team: db.team.name,
      status: db.status,
      quarantine_dt: db.quarantineDt,
    }));
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (!rows.length) {
    process.stdout.write('No databases.\n');
    return;
  }
  process.stdout.write(
    formatTable(
      ['ID', 'NAME', 'ENGINE', 'ENVIRONMENT', 'TEAM', 'STATUS', 'QUARANTINE_DT'],
      rows.map((r) => [
        String(r.id),
        r.name,
        r.engine,
        r.environment,
        r.team,
        r.status,
        r.quarantine_dt ?? '-',
      ]),
    ),
  );
}
