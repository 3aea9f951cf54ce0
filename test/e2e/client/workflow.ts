/**
 * What a team writes against dbaas with a generated client: openapi-fetch typed by
 * openapi-typescript's output. Runs the whole life of a PostgreSQL database and proves each
 * step on the engine itself. Prints one JSON line per step; any failure throws (exit 1).
 *
 * Environment: DBAAS_URL, DBAAS_LOGIN (`user:password`).
 */
import type { paths } from 'dbaas-openapi';
import createClient from 'openapi-fetch';
import { Client } from 'pg';

const baseUrl = process.env.DBAAS_URL ?? 'http://localhost:8000';
const login = process.env.DBAAS_LOGIN ?? 'admin:123456';
const api = createClient<paths>({
  baseUrl,
  headers: { authorization: `Basic ${Buffer.from(login).toString('base64')}` },
});

function step(name: string, detail: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ step: name, ...detail })}\n`);
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Fills the endpoint's `<user>:<password>` placeholders. */
function connectionUrl(endpoint: string, user: string, password: string): string {
  return endpoint
    .replace('<user>', encodeURIComponent(user))
    .replace('<password>', encodeURIComponent(password));
}

/** Runs one statement as the credential; returns the error message instead of throwing. */
async function sql(url: string, statement: string): Promise<{ rows: unknown[] } | string> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return { rows: (await client.query(statement)).rows };
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const created = await api.POST('/api/database', {
    body: {
      name: `client workflow ${process.pid}`,
      plan: '/api/plan/1/',
      environment: '/api/environment/1/',
    },
  });
  check(created.response.status === 201 && created.data, `create: ${created.response.status}`);
  const database = created.data;
  check(created.response.headers.get('location') === database._links.self, 'create: Location');
  step('created', { id: database.id, name: database.name, endpoint: database.endpoint });

  const credentialId = database.credentials[0].id;
  const revealed = await api.GET('/api/credential/{id}', {
    params: { path: { id: credentialId } },
  });
  check(revealed.data, `credential: ${revealed.response.status}`);
  const { user, password } = revealed.data;
  const firstUrl = connectionUrl(database.endpoint, user, password);
  const created_table = await sql(
    firstUrl,
    'CREATE TABLE note (body text); INSERT INTO note VALUES ($$kept$$)',
  );
  check(typeof created_table !== 'string', `connect: ${JSON.stringify(created_table)}`);
  step('connected', { user });

  const reset = await api.POST('/api/credential/{id}/reset_password', {
    params: { path: { id: credentialId } },
  });
  check(reset.data && reset.data.password !== password, `reset: ${reset.response.status}`);
  const resetUrl = connectionUrl(database.endpoint, user, reset.data.password);
  check(typeof (await sql(firstUrl, 'SELECT 1')) === 'string', 'the old password still works');
  check(typeof (await sql(resetUrl, 'SELECT 1')) !== 'string', 'the new password fails');
  step('password reset');

  const quarantined = await api.DELETE('/api/database/{id}', {
    params: { path: { id: database.id } },
  });
  check(quarantined.response.status === 204, `quarantine: ${quarantined.response.status}`);
  check(typeof (await sql(resetUrl, 'SELECT 1')) === 'string', 'login works in quarantine');
  const inQuarantine = await api.GET('/api/database/{id}', {
    params: { path: { id: database.id } },
  });
  check(inQuarantine.data?.quarantine_dt, 'no quarantine date');
  step('quarantined', { quarantine_dt: inQuarantine.data.quarantine_dt });

  const restored = await api.POST('/api/database/{id}/restore', {
    params: { path: { id: database.id } },
  });
  check(restored.data?.quarantine_dt === null, `restore: ${restored.response.status}`);
  const afterRestore = await api.GET('/api/credential/{id}', {
    params: { path: { id: credentialId } },
  });
  check(afterRestore.data, `credential after restore: ${afterRestore.response.status}`);
  const restoredUrl = connectionUrl(database.endpoint, user, afterRestore.data.password);
  const kept = await sql(restoredUrl, 'SELECT body FROM note');
  check(typeof kept !== 'string', `connect after restore: ${JSON.stringify(kept)}`);
  check(JSON.stringify(kept.rows) === '[{"body":"kept"}]', 'data lost in quarantine');
  step('restored', { rows: kept.rows });

  for (const phase of ['quarantine', 'delete']) {
    const deleted = await api.DELETE('/api/database/{id}', {
      params: { path: { id: database.id } },
    });
    check(deleted.response.status === 204, `${phase}: ${deleted.response.status}`);
  }
  const gone = await api.GET('/api/database/{id}', { params: { path: { id: database.id } } });
  check(gone.response.status === 404 && gone.error, `after delete: ${gone.response.status}`);
  check(typeof (await sql(restoredUrl, 'SELECT 1')) === 'string', 'the user survived deletion');
  step('deleted', { status: gone.response.status, title: gone.error.title });

  const list = await api.GET('/api/database', { params: { query: { page_size: 100 } } });
  check(list.data, `list: ${list.response.status}`);
  const names = list.data.database.map((db: { name: string }) => db.name);
  check(!names.includes(database.name), 'still listed');
  step('listed', { count: list.data._links.count });
}

main().catch((error: unknown) => {
  process.stderr.write(`workflow failed: ${(error as Error).message}\n`);
  process.exit(1);
});
