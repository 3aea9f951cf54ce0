import { Command } from 'commander';
import { CliError, EXIT, FailedError } from '../errors';
import {
  jsonOption,
  Names,
  OutputOptions,
  outputOption,
  printJson,
  printTable,
  wantsJson,
} from '../output';
import { apiClient } from './common';

interface Infra {
  id: number;
  name: string;
  engine: string;
  addresses?: string[];
  status?: { reachable: boolean; version: string | null; error: string | null };
  warnings?: string[];
}

export interface InfraCheck {
  id: number;
  name: string;
  engine: string;
  addresses: string[];
  reachable: boolean;
  version: string | null;
  error: string | null;
  /** How the engine leaves its tenants unprotected (trust auth, open Redis user, ...). */
  warnings: string[];
}

/**
 * Every infra's live status as a dba sees it in `GET /api/infra/{id}/`: the API pings the
 * engine with its admin login and runs the engine's security checks, fresh on each read.
 */
async function check(options: OutputOptions): Promise<void> {
  const client = await apiClient();
  const names = new Names(client);
  const infras = await client.list<Infra>('infra');
  const checks = await Promise.all(
    infras.map(async ({ id }): Promise<InfraCheck> => {
      const infra = await client.get<Infra>(`/api/infra/${id}/`);
      if (!infra.status)
        throw new CliError(
          'infra check needs a dba login (engine status is for dbas only)',
          EXIT.auth,
        );
      return {
        id: infra.id,
        name: infra.name,
        engine: await names.of(infra.engine),
        addresses: infra.addresses ?? [],
        reachable: infra.status.reachable,
        version: infra.status.version,
        error: infra.status.error ? infra.status.error.split('\n')[0] : null,
        warnings: infra.warnings ?? [],
      };
    }),
  );
  if (wantsJson(options)) printJson(checks);
  else {
    printTable(
      ['ID', 'NAME', 'ENGINE', 'ADDRESSES', 'REACHABLE', 'VERSION/ERROR'],
      checks.map((c) => [
        String(c.id),
        c.name,
        c.engine,
        c.addresses.join(','),
        c.reachable ? 'yes' : 'no',
        (c.reachable ? c.version : c.error) ?? '',
      ]),
      'No infras registered.',
    );
    const warned = checks.filter((c) => c.warnings.length);
    if (warned.length) {
      process.stdout.write('\nWarnings:\n');
      for (const c of warned)
        for (const w of c.warnings) process.stdout.write(`  ${c.name}: ${w}\n`);
    }
  }
  const down = checks.filter((c) => !c.reachable);
  if (down.length)
    throw new FailedError(
      `${down.length} of ${checks.length} infra(s) unreachable: ${down.map((c) => c.name).join(', ')}`,
    );
}

export function registerInfra(program: Command): void {
  const infra = program
    .command('infra')
    .description('Engine servers (infras), over the API (dba).')
    .addHelpText('after', '\nRun "dbaas help infra check" for details.');
  infra
    .command('check')
    .description(
      'Have the API ping every infra with its admin login and print id, name, engine, addresses, reachable and version or error, then its security warnings.',
    )
    .addOption(outputOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nWarnings name what leaves the tenants unprotected: PostgreSQL trust authentication, a MySQL\nadmin without a password, the Redis default user without a password, Redis ACL changes\nnot persisted, MongoDB without access control. They do not change the exit code.\n\nExits 1 if any infra is unreachable, so it can gate a deploy.',
    )
    .action(check);
}
