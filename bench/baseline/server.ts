/**
 * The read-path baseline: plain Fastify + pg, no Nest, no TypeORM. It answers
 * GET /api/database/{id}/ and GET /api/database/ exactly as the API does (same Basic login
 * against the same user table and scrypt hash format, same rows, same HAL JSON), so the
 * bench can say how much the framework layers cost.
 *
 * Like the API it caches verified logins (HMAC-SHA256 of user + password under a random
 * per-process key, 60 s), and like the API it measures used sizes on the engine, cached
 * for 30 s (a detail waits for a fresh value, a list shows the last one). Only PostgreSQL
 * infras are measured here (the bench's read set lives on one); other engines give null.
 *
 * It also answers a provisioning cycle with the engine calls alone: see "provisioning floor".
 *
 * Environment: DATABASE_URL (metadata store), PORT, BASELINE_LOGIN_CACHE (default on),
 * BASELINE_ENGINE_URL (sizes), BASELINE_PROVISIONING (the floor's engines).
 */
import Fastify, { FastifyReply, FastifyRequest } from 'fastify';
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { Pool, types } from 'pg';
// The providers' own files, not the @dbaas/engines index (see bench/run.ts).
import { EngineProvider, InfraTarget } from '../../libs/engines/src/engine-provider';
import { MysqlProvider } from '../../libs/engines/src/mysql/mysql.provider';
import { PostgresqlProvider } from '../../libs/engines/src/postgresql/postgresql.provider';
import { RedisProvider } from '../../libs/engines/src/redis/redis.provider';

// As TypeORM does: `date` stays a YYYY-MM-DD string, bigint is read as a string.
types.setTypeParser(1082, (value) => value);

const LOGIN_TTL_MS = 60_000;
const SIZE_TTL_MS = 30_000;
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

const metadata = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const loginCacheOn = process.env.BASELINE_LOGIN_CACHE !== 'false';

interface Viewer {
  id: number;
  username: string;
  role: string;
  teamIds: number[];
}

// ---- login ---------------------------------------------------------------------------

const loginKey = randomBytes(32);
const logins = new Map<string, { mac: Buffer; expires: number }>();

function loginMac(username: string, password: string): Buffer {
  return createHmac('sha256', loginKey)
    .update(`${username.length}:${username}:${password}`)
    .digest();
}

function scryptVerify(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return Promise.resolve(false);
  const expected = Buffer.from(hash, 'base64');
  return new Promise((resolve, reject) =>
    scrypt(
      password,
      Buffer.from(salt, 'base64'),
      expected.length,
      { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 },
      (error, actual) => (error ? reject(error) : resolve(timingSafeEqual(actual, expected))),
    ),
  );
}

async function authenticate(request: FastifyRequest): Promise<Viewer | null> {
  const header = request.headers.authorization ?? '';
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const { rows } = await metadata.query<{
    id: number;
    username: string;
    role: string;
    password_hash: string;
    team_ids: number[] | null;
  }>(
    `SELECT u.id, u.username, u.role, u.password_hash,
            array_remove(array_agg(tu.team_id), NULL) AS team_ids
       FROM "user" u LEFT JOIN team_user tu ON tu.user_id = u.id
      WHERE u.username = $1
      GROUP BY u.id`,
    [username],
  );
  const user = rows[0];
  const cached = loginCacheOn ? logins.get(username) : undefined;
  let ok = false;
  if (user && cached && cached.expires > Date.now()) {
    ok = timingSafeEqual(cached.mac, loginMac(username, password));
  }
  if (!ok) {
    ok = await scryptVerify(password, user?.password_hash ?? DUMMY_HASH);
    if (ok && user && loginCacheOn) {
      if (logins.size >= 10_000) logins.delete(logins.keys().next().value as string);
      logins.set(username, {
        mac: loginMac(username, password),
        expires: Date.now() + LOGIN_TTL_MS,
      });
    }
  }
  if (!user || !ok) return null;
  return { id: user.id, username: user.username, role: user.role, teamIds: user.team_ids ?? [] };
}

// ---- used sizes ------------------------------------------------------------------------

const enginePools = new Map<number, Pool>();
const sizes = new Map<number, { bytes: number; at: number }>();
const measuring = new Map<number, Promise<number | null>>();

async function engineTarget(infraId: number): Promise<Pool> {
  let pool = enginePools.get(infraId);
  if (pool) return pool;
  // The bench hands the baseline the engine's admin URL: it has no secret box.
  pool = new Pool({ connectionString: process.env.BASELINE_ENGINE_URL, max: 4 });
  pool.on('error', () => undefined);
  enginePools.set(infraId, pool);
  return pool;
}

function measure(row: DatabaseRow): Promise<number | null> {
  const entry = sizes.get(row.id);
  if (entry && Date.now() - entry.at < SIZE_TTL_MS) return Promise.resolve(entry.bytes);
  if (row.engine_type !== 'postgresql') return Promise.resolve(null);
  let pending = measuring.get(row.id);
  if (!pending) {
    pending = (async () => {
      // As the API does: one metadata read of the infra, then the engine.
      await metadata.query(
        `SELECT i.id, i.addresses, i.admin_user, i.admin_password_encrypted, e.id, et.name
           FROM infra i JOIN engine e ON e.id = i.engine_id
           JOIN engine_type et ON et.id = e.engine_type_id WHERE i.id = $1`,
        [row.infra_id],
      );
      const pool = await engineTarget(row.infra_id);
      const { rows } = await pool.query<{ size: string }>(
        'SELECT pg_database_size($1)::text AS size',
        [row.name],
      );
      const bytes = Number(rows[0].size);
      sizes.set(row.id, { bytes, at: Date.now() });
      return bytes;
    })().catch(() => entry?.bytes ?? null);
    pending.finally(() => measuring.delete(row.id)).catch(() => undefined);
    measuring.set(row.id, pending);
  }
  return pending;
}

// ---- databases -------------------------------------------------------------------------

interface DatabaseRow {
  id: number;
  name: string;
  description: string;
  plan_id: number;
  environment_id: number;
  infra_id: number;
  project_id: number | null;
  team_id: number;
  status: string;
  quarantine_dt: string | null;
  is_protected: boolean;
  tags: string[];
  over_size_limit: boolean;
  created_at: Date;
  size_limit_in_bytes: string;
  addresses: string[];
  engine_id: number;
  engine_type: string;
  credentials: { id: number; user: string }[] | null;
}

const SELECT_DATABASES = `
  SELECT d.id, d.name, d.description, d.plan_id, d.environment_id, d.infra_id, d.project_id,
         d.team_id, d.status, d.quarantine_dt, d.is_protected, d.tags, d.over_size_limit,
         d.created_at,
         p.size_limit_in_bytes, i.addresses, i.engine_id, et.name AS engine_type,
         (SELECT json_agg(json_build_object('id', c.id, 'user', c."user") ORDER BY c.id)
            FROM credential c WHERE c.database_id = d.id) AS credentials
    FROM database d
    JOIN plan p ON p.id = d.plan_id
    JOIN infra i ON i.id = d.infra_id
    JOIN engine e ON e.id = i.engine_id
    JOIN engine_type et ON et.id = e.engine_type_id`;

/** The same visibility rule as AccessPolicy.scopeDatabases. */
function scope(viewer: Viewer, params: unknown[]): string {
  if (viewer.role === 'dba') return 'TRUE';
  params.push(viewer.teamIds.length ? viewer.teamIds : [0]);
  return `d.team_id = ANY($${params.length}) AND d.status <> 'quarantined'`;
}

function endpoint(row: DatabaseRow): string {
  switch (row.engine_type) {
    case 'mysql':
    case 'redis':
      return `${row.engine_type === 'mysql' ? 'mysql' : 'redis'}://<user>:<password>@${row.addresses[0]}/${row.engine_type === 'mysql' ? row.name : '0'}`;
    default:
      return `${row.engine_type}://<user>:<password>@${row.addresses.join(',')}/${row.name}`;
  }
}

function present(base: string, row: DatabaseRow, usedSize: number | null) {
  const to = (resource: string, id: number | null) =>
    id === null ? null : `${base}/api/${resource}/${id}/`;
  return {
    _links: { self: to('database', row.id) },
    id: row.id,
    name: row.name,
    endpoint: endpoint(row),
    plan: to('plan', row.plan_id),
    environment: to('environment', row.environment_id),
    project: to('project', row.project_id),
    team: to('team', row.team_id),
    engine: to('engine', row.engine_id),
    status: row.status,
    quarantine_dt: row.quarantine_dt,
    is_protected: row.is_protected,
    tags: row.tags,
    total_size_in_bytes: Number(row.size_limit_in_bytes),
    used_size_in_bytes: usedSize,
    over_size_limit: row.over_size_limit,
    credentials: (row.credentials ?? []).map((c) => ({
      _links: { self: to('credential', c.id) },
      id: c.id,
      user: c.user,
    })),
    description: row.description,
    created_at: row.created_at.toISOString(),
  };
}

function problem(reply: FastifyReply, status: number, title: string, detail: string) {
  if (status === 401) reply.header('www-authenticate', 'Basic realm="dbaas"');
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, detail });
}

const app = Fastify({ logger: false, ignoreTrailingSlash: true });

app.get<{ Params: { id: string } }>('/api/database/:id', async (request, reply) => {
  const viewer = await authenticate(request);
  if (!viewer) return problem(reply, 401, 'Unauthorized', 'A valid login is required.');
  const id = Number(request.params.id);
  if (!Number.isInteger(id) || id < 1)
    return problem(reply, 400, 'Bad Request', 'The id must be a positive integer.');
  const params: unknown[] = [id];
  const { rows } = await metadata.query<DatabaseRow>(
    `${SELECT_DATABASES} WHERE d.id = $1 AND ${scope(viewer, params)}`,
    params,
  );
  if (!rows[0]) return problem(reply, 404, 'Not Found', `No database with id ${id}.`);
  return present(`${request.protocol}://${request.host}`, rows[0], await measure(rows[0]));
});

app.get<{ Querystring: Record<string, string> }>('/api/database', async (request, reply) => {
  const viewer = await authenticate(request);
  if (!viewer) return problem(reply, 401, 'Unauthorized', 'A valid login is required.');
  const page = Number(request.query.page ?? 1);
  const pageSize = Number(request.query.page_size ?? 10);
  if (
    !Number.isInteger(page) ||
    page < 1 ||
    !Number.isInteger(pageSize) ||
    pageSize < 1 ||
    pageSize > 100
  )
    return problem(reply, 400, 'Bad Request', 'Bad pagination.');
  const params: unknown[] = [];
  const where = scope(viewer, params);
  const [list, count] = await Promise.all([
    // The page's ids first (an index scan), then the joins for those rows only.
    metadata.query<DatabaseRow>(
      `${SELECT_DATABASES} WHERE d.id IN (SELECT d.id FROM database d WHERE ${where}
         ORDER BY d.id LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}) ORDER BY d.id`,
      params,
    ),
    metadata.query<{ count: string }>(`SELECT count(*) FROM database d WHERE ${where}`, params),
  ]);
  const total = Number(count.rows[0].count);
  // Lists show the last measured size and refresh it in the background.
  for (const row of list.rows) void measure(row);
  const base = `${request.protocol}://${request.host}`;
  const [path, query = ''] = request.url.split('?');
  const withQuery = (changes: Record<string, string>) => {
    const q = new URLSearchParams(query);
    for (const [key, value] of Object.entries(changes)) q.set(key, value);
    const text = q.toString();
    return `${base}${path}${text ? `?${text}` : ''}`;
  };
  const lastPage = Math.max(1, Math.ceil(total / pageSize));
  return {
    _links: {
      count: total,
      self: withQuery({}),
      previous: page > 1 ? withQuery({ page: String(Math.min(page - 1, lastPage)) }) : null,
      next: page < lastPage ? withQuery({ page: String(page + 1) }) : null,
    },
    database: list.rows.map((row) => present(base, row, sizes.get(row.id)?.bytes ?? null)),
  };
});

// ---- provisioning floor -----------------------------------------------------------------
//
// The three requests of a provisioning cycle (POST, then DELETE twice) with the same Basic
// login, answered by plain Fastify making the API's engine calls through the same providers,
// and nothing else: no task, no lifecycle state, no lock, no record but a map in memory.
// Not a competitor for the API (it would lose every database on a restart): the floor under
// any HTTP API's cycle, which the bench reports next to the direct one.
// BASELINE_PROVISIONING: JSON { "<plan id>": { "type": ..., "target": InfraTarget } }.

const floorTargets = JSON.parse(process.env.BASELINE_PROVISIONING ?? '{}') as Record<
  string,
  { type: 'postgresql' | 'mysql' | 'redis'; target: InfraTarget }
>;
const floorProviders: Record<string, EngineProvider> = {
  postgresql: new PostgresqlProvider(),
  mysql: new MysqlProvider(),
  redis: new RedisProvider(),
};
const floorDatabases = new Map<number, { name: string; plan: string; quarantined: boolean }>();
let floorNextId = 1_000_000;

app.post<{ Body: { name: string; plan: number } }>('/api/database', async (request, reply) => {
  if (!(await authenticate(request)))
    return problem(reply, 401, 'Unauthorized', 'A valid login is required.');
  const { name, plan } = request.body;
  const engine = floorTargets[String(plan)];
  if (!engine) return problem(reply, 400, 'Bad Request', 'Unknown plan.');
  const provider = floorProviders[engine.type];
  const user = `u_${name}`;
  if ((await provider.listDatabases(engine.target)).includes(name))
    return problem(reply, 409, 'Conflict', 'The database exists.');
  await provider.createDatabase(engine.target, name);
  if ((await provider.listUsers(engine.target)).includes(user))
    return problem(reply, 409, 'Conflict', 'The user exists.');
  const password = randomBytes(18).toString('base64url');
  await provider.createUser(engine.target, { database: name, user, password, privileges: 'owner' });
  const id = floorNextId++;
  floorDatabases.set(id, { name, plan: String(plan), quarantined: false });
  return reply.code(201).send({ id, name, credentials: [{ user, password }] });
});

app.delete<{ Params: { id: string } }>('/api/database/:id', async (request, reply) => {
  if (!(await authenticate(request)))
    return problem(reply, 401, 'Unauthorized', 'A valid login is required.');
  const id = Number(request.params.id);
  const database = floorDatabases.get(id);
  if (!database) return problem(reply, 404, 'Not Found', `No database with id ${id}.`);
  const { type, target } = floorTargets[database.plan];
  const provider = floorProviders[type];
  const ref = { database: database.name, user: `u_${database.name}` };
  await provider.ping(target);
  if (!database.quarantined) {
    await provider.revokeAccess(target, ref);
    database.quarantined = true;
  } else {
    await provider.dropUser(target, ref);
    await provider.dropDatabase(target, database.name);
    floorDatabases.delete(id);
  }
  return reply.code(204).send();
});

app
  .listen({ port: Number(process.env.PORT ?? 8100), host: '127.0.0.1' })
  .then(() => console.log('baseline listening'))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });

const shutdown = () => {
  void app
    .close()
    .then(() =>
      Promise.all([
        metadata.end(),
        ...[...enginePools.values()].map((p) => p.end()),
        ...Object.values(floorProviders).map((provider) => provider.close()),
      ]),
    )
    .finally(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
