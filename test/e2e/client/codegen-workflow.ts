/**
 * The same API through a second generator: openapi-typescript-codegen's fetch client (a
 * `DbaasClient` class with one service per tag), generated from the live document. Creates a
 * PostgreSQL database and a credential, reads the credential and connects with its ready-made
 * `uri`, then deletes both. Prints one JSON line per step; any failure throws (exit 1).
 *
 * Environment: DBAAS_URL, DBAAS_LOGIN (`user:password`).
 */
import { Client } from 'pg';
import { ApiError, DbaasClient } from './generated';

const [username, password] = (process.env.DBAAS_LOGIN ?? 'admin:123456').split(':');
const api = new DbaasClient({
  BASE: process.env.DBAAS_URL ?? 'http://localhost:8000',
  USERNAME: username,
  PASSWORD: password,
});

function step(name: string, detail: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ step: name, ...detail })}\n`);
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The status and problem of a failed call, as the generated client throws it. */
async function failure(
  call: Promise<unknown>,
): Promise<{ status: number; message: string; type: string }> {
  try {
    await call;
  } catch (error) {
    check(error instanceof ApiError, `not an ApiError: ${String(error)}`);
    return { status: error.status, message: error.message, type: error.body?.type };
  }
  throw new Error('the call did not fail');
}

async function main(): Promise<void> {
  const database = await api.database.createDatabase({
    name: `codegen workflow ${process.pid}`,
    plan: '/api/plan/1/',
    environment: '1',
  });
  // Whole numbers are numbers in the generated types (`integer` in the document).
  const databaseId: number = database.id;
  step('created database', { id: databaseId, name: database.name, status: database.status });

  const created = await api.credential.createCredential({
    user: `cg_${process.pid}`,
    database: database._links.self,
    privileges: 'read-only',
  });
  step('created credential', {
    id: created.id,
    user: created.user,
    privileges: created.privileges,
  });

  const credential = await api.credential.getCredential(created.id);
  check(credential.password === created.password, 'read: another password');
  const client = new Client({ connectionString: credential.uri, connectionTimeoutMillis: 5_000 });
  await client.connect();
  const { rows } = await client.query<{ user: string; db: string }>(
    'SELECT current_user AS user, current_database() AS db',
  );
  await client.end();
  step('connected with uri', { user: rows[0].user, database: rows[0].db });

  await api.credential.deleteCredential(created.id);
  const gone = await failure(api.credential.getCredential(created.id));
  step('deleted credential', gone);

  await api.database.deleteDatabase(databaseId);
  // The boolean filter, sent by the generated client as ?quarantine=true.
  const quarantined = await api.database.listDatabase(
    1,
    100,
    database.name,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    true,
  );
  const live = await api.database.listDatabase(
    1,
    100,
    database.name,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    false,
  );
  step('deleted database', {
    quarantined: quarantined.database.map((d: { id: number }) => d.id),
    live: live.database.length,
    count: quarantined._links.count,
  });
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
