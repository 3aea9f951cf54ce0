import { InvalidArgumentError, Option } from 'commander';
import { ApiClient } from '../api/client';
import { resolveLogin } from '../api/config';
import { CliError, EXIT, UsageError } from '../errors';

/** A client logged in from the environment or the saved login (exit code 3 without one). */
export async function apiClient(): Promise<ApiClient> {
  return new ApiClient(await resolveLogin());
}

/** A positive integer id argument. */
export function positiveId(value: string): number {
  if (!/^[1-9]\d{0,9}$/.test(value)) throw new InvalidArgumentError('an id is a positive integer');
  return Number(value);
}

/** `--no-wait`: return as soon as the API accepted the work (202). */
export const noWaitOption = () =>
  new Option('--no-wait', 'do not wait for an accepted (202) operation to finish');

/**
 * A database given by id or by exact name. A name held by several databases (one per
 * environment) asks for the id.
 */
export async function databaseId(client: ApiClient, idOrName: string): Promise<number> {
  if (/^[1-9]\d{0,9}$/.test(idOrName)) return Number(idOrName);
  const matches = await client.list<{ id: number; environment: string }>('database', {
    name: idOrName,
  });
  if (!matches.length) throw new CliError(`no database named ${idOrName}`, EXIT.notFound);
  if (matches.length > 1)
    throw new UsageError(
      `${matches.length} databases are named ${idOrName} (ids ${matches.map((m) => m.id).join(', ')}): give the id`,
    );
  return matches[0].id;
}
