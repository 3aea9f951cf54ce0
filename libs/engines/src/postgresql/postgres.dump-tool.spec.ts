import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
// The module's own exports object (jest.spyOn cannot redefine an `import * as` namespace's).
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeOs = require('node:os');
import { Client } from 'pg';
import {
  checksum,
  collector,
  EngineServer,
  failingAfter,
  startPostgres,
  targetOf,
} from '../../../../test/harness';
import { BackupToolError } from '../common/dump-tool';
import * as runToolModule from '../common/run-tool';
import { InfraTarget } from '../engine-provider';
import { majorOfVersionNum, postgresClientDir } from './postgres-client-dir';
import { PostgresDumpTool } from './postgres.dump-tool';
import { PostgresqlProvider } from './postgresql.provider';

describe('PostgresDumpTool on a real server', () => {
  let server: EngineServer;
  let target: InfraTarget;
  const sut = new PostgresDumpTool();

  const query = async <T = any>(database: string, sql: string, login?: string): Promise<T[]> => {
    const client = new Client({
      connectionString: server.url
        .replace(/\/postgres$/, `/${database}`)
        .replace(/\/\/[^@]*@/, login ? `//${login}@` : '$&'),
    });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  };
  /** Every row of both tables, and the sequence's position. */
  const contents = async (database: string) =>
    checksum({
      items: await query(database, 'SELECT * FROM items ORDER BY id'),
      notes: await query(database, 'SELECT * FROM notes ORDER BY id'),
      next: await query(database, 'SELECT last_value FROM items_id_seq'),
    });
  /** The schema-qualified names of every table, view and sequence outside the system schemas. */
  const objectsOf = async (database: string) =>
    (
      await query<{ name: string }>(
        database,
        `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'v', 'm', 'S', 'f', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
          ORDER BY 1`,
      )
    ).map((r) => r.name);
  const dump = async (database: string) => {
    const out = collector();
    await sut.dump(target, database, out.stream);
    return out.bytes();
  };

  beforeAll(async () => {
    server = await startPostgres();
    target = targetOf(server);
    await query('postgres', 'CREATE ROLE shop_owner NOLOGIN');
    await query('postgres', 'CREATE DATABASE shop OWNER shop_owner');
    await query(
      'shop',
      'SET ROLE shop_owner; CREATE TABLE items (id serial PRIMARY KEY, name text, price numeric(10,2), data bytea, tags text[], at timestamptz)',
    );
    await query('shop', 'SET ROLE shop_owner; CREATE TABLE notes (id int PRIMARY KEY, body jsonb)');
    await query(
      'shop',
      `INSERT INTO items (name, price, data, tags, at)
       SELECT 'item ' || i || ' é 🙂', i * 1.5, decode(md5(i::text), 'hex'), ARRAY['a' || i, NULL], '2026-01-01'::timestamptz + i * interval '1 minute'
       FROM generate_series(1, 5000) i`,
    );
    await query(
      'shop',
      `INSERT INTO notes SELECT i, jsonb_build_object('n', i) FROM generate_series(1, 100) i`,
    );
    await query('shop', 'INSERT INTO items (name) VALUES (NULL)');
  }, 120_000);
  afterAll(() => server?.destroy(), 120_000);

  it('dumps with the client of the server major version, and restores in place exactly', async () => {
    expect(await sut.clientFor(target, 'shop')).toBe('/usr/lib/postgresql/15/bin');
    const before = await contents('shop');
    const dumped = await dump('shop');
    expect(dumped.subarray(0, 5).toString()).toBe('PGDMP'); // the custom format

    await query('shop', "UPDATE items SET name = 'changed' WHERE id % 3 = 0");
    await query('shop', 'DELETE FROM items WHERE id > 4000');
    await query('shop', 'DROP TABLE notes');
    await query('shop', "SELECT nextval('items_id_seq')");
    expect(await query('shop', 'SELECT 1 FROM pg_tables WHERE tablename = $$notes$$')).toEqual([]);
    // Objects the backup does not have: they must be gone after the restore.
    await query('shop', 'CREATE TABLE later (id int); INSERT INTO later VALUES (1)');
    await query('shop', 'CREATE SCHEMA extra; CREATE TABLE extra.t (id int)');
    await query('shop', 'CREATE VIEW later_view AS SELECT 1 AS one');
    await query('shop', 'SELECT lo_from_bytea(0, $$large$$)');
    // An open session on the database, inside a transaction: it is ended.
    const session = new Client({ connectionString: server.url.replace(/\/postgres$/, '/shop') });
    session.on('error', () => undefined);
    await session.connect();
    await session.query('BEGIN; SELECT count(*) FROM items');

    await sut.restore(target, 'shop', Readable.from([dumped]));
    expect(await contents('shop')).toBe(before);
    expect(await objectsOf('shop')).toEqual([
      'public.items',
      'public.items_id_seq',
      'public.notes',
    ]);
    expect(await query('shop', 'SELECT count(*)::int AS n FROM pg_largeobject_metadata')).toEqual([
      { n: 0 },
    ]);
    await expect(session.query('SELECT 1')).rejects.toThrow(/terminat|connection error/);
    await session.end().catch(() => undefined);

    // Again from the same file: a restore converges.
    await sut.restore(target, 'shop', Readable.from([dumped]));
    expect(await contents('shop')).toBe(before);
  });

  it('restores into another database, owned by its own owner role (a clone)', async () => {
    const dumped = await dump('shop');
    await query('postgres', 'CREATE ROLE copy_owner NOLOGIN');
    await query('postgres', 'CREATE DATABASE shop_copy OWNER copy_owner');

    await sut.restore(target, 'shop_copy', Readable.from([dumped]), { owner: 'copy_owner' });

    expect(await contents('shop_copy')).toBe(await contents('shop'));
    const owners = await query(
      'shop_copy',
      "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(owners).toEqual([{ tableowner: 'copy_owner' }]);
  });

  it('restores a database made by the provider in place: credentials and grants still work', async () => {
    const provider = new PostgresqlProvider();
    try {
      await provider.createDatabase(target, 'app');
      const users = [
        { user: 'app_owner', privileges: 'owner' as const },
        { user: 'app_ro', privileges: 'read-only' as const },
      ];
      for (const { user, privileges } of users)
        await provider.createUser(target, {
          database: 'app',
          user,
          password: `pw-${user}`,
          privileges,
        });
      const asOwner = (sql: string) => query('app', sql, 'app_owner:pw-app_owner');
      const asReader = (sql: string) => query('app', sql, 'app_ro:pw-app_ro');
      await asOwner('CREATE TABLE t (id int PRIMARY KEY, v text)');
      await asOwner("INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 100) i");
      const before = checksum(await asReader('SELECT * FROM t ORDER BY id'));
      const out = collector();
      await provider.dumpTool.dump(target, 'app', out.stream);

      await asOwner('DELETE FROM t WHERE id > 50');
      await asOwner('CREATE TABLE t_later (id int)');
      await provider.dumpTool.restore(target, 'app', Readable.from([out.bytes()]), {
        owner: 'app:owner',
      });

      expect(checksum(await asReader('SELECT * FROM t ORDER BY id'))).toBe(before);
      expect(await objectsOf('app')).toEqual(['public.t']);
      await asOwner("INSERT INTO t VALUES (101, 'new')"); // the owner still writes
      await expect(asReader("INSERT INTO t VALUES (102, 'no')")).rejects.toThrow(
        /permission denied/,
      );
      await asOwner('CREATE TABLE t2 (id int)'); // the owner still creates in public
      expect(await asReader('SELECT count(*)::int AS n FROM t2')).toEqual([{ n: 0 }]);
    } finally {
      await provider.close();
    }
  });

  it('leaves the database as it was when the backup fails midway (one transaction)', async () => {
    const dumped = await dump('shop');
    await query('shop', "UPDATE items SET name = 'after the backup' WHERE id = 1");
    await query('shop', 'CREATE TABLE made_after (id int)');
    const current = await contents('shop');
    const objects = await objectsOf('shop');

    const cut = failingAfter(dumped.subarray(0, Math.floor(dumped.length * 0.8)));
    await expect(sut.restore(target, 'shop', cut)).rejects.toThrow('fails authentication');
    expect(await contents('shop')).toBe(current);
    expect(await objectsOf('shop')).toEqual(objects);
    // What the backups lib reads to leave such a database `ready` instead of restoring it again.
    expect(sut.atomicRestore).toBe(true);

    // A file cut short without an error from the decryption: pg_restore refuses it itself.
    const truncated = Readable.from([dumped.subarray(0, Math.floor(dumped.length * 0.8))]);
    await expect(sut.restore(target, 'shop', truncated)).rejects.toThrow(BackupToolError);
    expect(await contents('shop')).toBe(current);
    expect(await objectsOf('shop')).toEqual(objects);
    await query('shop', 'DROP TABLE made_after');
  });

  it('ends both tools when either fails at any point, leaving the database as it was', async () => {
    // pg_restore writes the SQL into a named pipe psql reads: a tool that fails before the
    // other opened the pipe must not leave it waiting there forever.
    const dumped = await dump('shop');
    const current = await contents('shop');
    const objects = await objectsOf('shop');
    // pg_restore refuses its input before it wrote a byte: psql waits no longer.
    await expect(
      sut.restore(target, 'shop', Readable.from([Buffer.from('not an archive at all')])),
    ).rejects.toThrow(/pg_restore failed.*valid archive/s);
    // psql fails inside the script (a role that does not exist): pg_restore stops too.
    await expect(
      sut.restore(target, 'shop', Readable.from([dumped]), { owner: 'no_such_role' }),
    ).rejects.toThrow(/psql failed.*no_such_role/s);
    // psql fails before it opened the pipe, once pg_restore has read all its (small) input
    // and waits to open the pipe: pg_restore is killed all the same.
    const realRun = runToolModule.runTool;
    const runs = jest
      .spyOn(runToolModule, 'runTool')
      .mockImplementation((run) =>
        run.name === 'psql'
          ? new Promise((_resolve, reject) =>
              setTimeout(() => reject(new Error('psql could not start')), 1000),
            )
          : realRun(run),
      );
    try {
      await expect(sut.restore(target, 'shop', Readable.from([dumped]))).rejects.toThrow(
        'psql could not start',
      );
    } finally {
      runs.mockRestore();
    }
    expect(await contents('shop')).toBe(current);
    expect(await objectsOf('shop')).toEqual(objects);
  });

  describe('which error a restore reports when both tools fail (found by mutation testing)', () => {
    const realRun = runToolModule.runTool;
    /**
     * Restores `input` into shop with psql's run replaced by `psql(run, sqlPipe)`, the pipe
     * being the one pg_restore writes into. Returns the error the restore rejected with and
     * the one pg_restore's own run rejected with. With `psqlLast`, psql's outcome reaches
     * the restore only once pg_restore's run has ended: pg_restore is never stopped because
     * psql failed, so which tool failed first is staged, not a race.
     */
    const restoreWithPsql = async (
      input: Readable,
      psql: (run: runToolModule.ToolRun, sqlPipe: string) => Promise<void>,
      { psqlLast = true, owner }: { psqlLast?: boolean; owner?: string } = {},
    ) => {
      let pgRestore: Promise<void> | undefined;
      let sqlPipe = '';
      const runs = jest.spyOn(runToolModule, 'runTool').mockImplementation((run) => {
        if (run.name === 'pg_restore') {
          sqlPipe = run.args.find((arg) => arg.startsWith('--file='))!.slice('--file='.length);
          return (pgRestore = realRun(run));
        }
        if (run.name !== 'psql') return realRun(run);
        const ran = psql(run, sqlPipe);
        if (!psqlLast) return ran;
        ran.catch(() => undefined); // its outcome is read below, once pg_restore ended
        return pgRestore!.then(
          () => ran,
          () => ran,
        );
      });
      try {
        const error: unknown = await sut.restore(target, 'shop', input, { owner }).then(
          () => 'the restore succeeded',
          (e: unknown) => e,
        );
        const pgRestoreError: unknown = await pgRestore!.then(
          () => 'pg_restore succeeded',
          (e: unknown) => e,
        );
        return { error, pgRestoreError };
      } finally {
        runs.mockRestore();
      }
    };

    it('psql fails, then pg_restore dies of the broken pipe: psql says why', async () => {
      const { error, pgRestoreError } = await restoreWithPsql(
        Readable.from([await dump('shop')]),
        (run) => realRun(run), // the real psql: it fails on pg_restore's SET ROLE
        { owner: 'no_such_role' },
      );
      expect(pgRestoreError).toMatchObject({
        message: expect.stringMatching(/^pg_restore failed \(signal SIGPIPE\)/),
        signal: 'SIGPIPE',
      });
      expect(error).toBeInstanceOf(BackupToolError);
      expect((error as Error).message).toMatch(/^psql failed \(exit code 3\):.*no_such_role/s);
    });

    it('psql leaves the pipe without failing (as a \\q in the SQL would): the restore fails with pg_restore’s broken pipe', async () => {
      const { error } = await restoreWithPsql(
        Readable.from([await dump('shop')]),
        // Reads one byte of the SQL and exits 0.
        (run, sqlPipe) => realRun({ ...run, command: '/usr/bin/head', args: ['-c', '1', sqlPipe] }),
      );
      expect(error).toBeInstanceOf(BackupToolError);
      expect(error).toMatchObject({
        message: expect.stringMatching(/^pg_restore failed \(signal SIGPIPE\)/),
        signal: 'SIGPIPE',
      });
    });

    it('both fail on their own (not an archive; psql’s login refused): pg_restore says why', async () => {
      // The backup arrives only once psql failed: pg_restore then fails on it by itself
      // (had it failed first, psql would have been stopped with pg_restore's own error).
      const archive = new PassThrough();
      let psqlError: unknown;
      const { error, pgRestoreError } = await restoreWithPsql(archive, (run) =>
        realRun({ ...run, env: { ...run.env, PGPASSWORD: 'wrong' } }).catch((e: unknown) => {
          psqlError = e;
          archive.end('not an archive at all');
          throw e;
        }),
      );
      expect(psqlError).toMatchObject({
        message: expect.stringMatching(/^psql failed.*password authentication failed/s),
      });
      expect(error).toBeInstanceOf(BackupToolError);
      expect((error as Error).message).toMatch(
        /^pg_restore failed \(exit code 1\):.*valid archive/s,
      );
      expect(error).toBe(pgRestoreError);
    });

    it('psql cannot start: pg_restore is stopped with psql’s own error, which the restore reports', async () => {
      const { error, pgRestoreError } = await restoreWithPsql(
        Readable.from([await dump('shop')]),
        (run) => realRun({ ...run, command: '/nonexistent/psql' }),
        { psqlLast: false },
      );
      expect((error as Error).message).toBe('psql could not start: spawn /nonexistent/psql ENOENT');
      // The abort's reason is psql's error itself: either tool's rejection is the same error.
      expect(pgRestoreError).toBe(error);
    });
  });

  it('restores large objects in the same one transaction: a failure after them changes nothing', async () => {
    // pg_restore's script commits large objects on their own unless it is one transaction.
    await query('postgres', 'CREATE ROLE shop_reader NOLOGIN');
    await query('shop', 'GRANT SELECT ON items TO shop_reader');
    await query('shop', "SELECT lo_from_bytea(0, 'large one')");
    const dumped = await dump('shop');
    await query('shop', 'REVOKE SELECT ON items FROM shop_reader');
    await query('postgres', 'DROP ROLE shop_reader'); // the dump's GRANT, restored last, fails
    await query('shop', "UPDATE items SET name = 'after the backup' WHERE id = 1");
    await query('shop', 'SELECT lo_unlink(oid) FROM pg_largeobject_metadata');
    const current = await contents('shop');
    const objects = await objectsOf('shop');

    await expect(sut.restore(target, 'shop', Readable.from([dumped]))).rejects.toThrow(
      /psql failed.*shop_reader/s,
    );
    expect(await contents('shop')).toBe(current);
    expect(await objectsOf('shop')).toEqual(objects);
    expect(await query('shop', 'SELECT count(*)::int AS n FROM pg_largeobject_metadata')).toEqual([
      { n: 0 },
    ]);
  });

  it('changes nothing when psql reads an end of input before COMMIT (the API process killed)', async () => {
    // When the API dies mid-restore, psql (its own process group) sees its stdin end
    // without the COMMIT, which is only sent after pg_restore succeeded.
    const current = await contents('shop');
    const objects = await objectsOf('shop');
    const bin = await sut.clientFor(target, 'shop');
    await runToolModule.runTool({
      name: 'psql',
      command: `${bin}/psql`,
      args: ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--file=-'],
      env: {
        PGHOST: server.host,
        PGPORT: String(server.port),
        PGUSER: server.adminUser,
        PGPASSWORD: server.adminPassword,
        PGDATABASE: 'shop',
      },
      secrets: [],
      input: Readable.from([
        'BEGIN;\nDROP TABLE notes;\nDELETE FROM items;\nCREATE TABLE half (id int);\n',
      ]),
    });
    expect(await contents('shop')).toBe(current);
    expect(await objectsOf('shop')).toEqual(objects);
  });

  it('refuses an owner role name or a temporary folder that psql could not take (found by mutation testing)', async () => {
    const dumped = await dump('shop');
    await expect(
      sut.restore(target, 'shop', Readable.from([dumped]), { owner: "shop'; DROP" }),
    ).rejects.toThrow(`Not a role name the dump tools accept: "shop'; DROP"`);
    // The named pipe's path goes into psql's \i '...': a quote in it is refused.
    const odd = mkdtempSync(join(tmpdir(), "dbaas-it's-"));
    const tmp = jest.spyOn(nodeOs, 'tmpdir').mockReturnValue(odd);
    try {
      await expect(sut.restore(target, 'shop', Readable.from([dumped]))).rejects.toThrow(
        /^Temporary folder unusable in psql: .*it's/,
      );
    } finally {
      tmp.mockRestore();
      rmSync(odd, { recursive: true, force: true });
    }
  });

  it('gives the password through the environment only, and says what failed', async () => {
    const runs = jest.spyOn(runToolModule, 'runTool');
    try {
      await dump('shop');
      await sut.restore(target, 'shop', Readable.from([await dump('shop')]));
      // pg_dump twice, then the restore's named pipe, pg_restore and psql
      const calls = runs.mock.calls.filter(([run]) => run.name !== 'mkfifo');
      expect(calls.map(([run]) => run.name)).toEqual(['pg_dump', 'pg_dump', 'pg_restore', 'psql']);
      for (const [run] of calls) {
        expect(JSON.stringify([run.command, run.args])).not.toContain(server.adminPassword);
        expect(run.env.PGPASSWORD).toBe(server.adminPassword);
        // Found by mutation testing: the rest of libpq's settings (no ~/.pgpass or service
        // file of the API's user takes part) and the password redacted from every failure.
        expect(run.env).toEqual({
          PGHOST: server.host,
          PGPORT: String(server.port),
          PGUSER: server.adminUser,
          PGPASSWORD: server.adminPassword,
          PGDATABASE: 'shop',
          PGCONNECT_TIMEOUT: '10',
          PGAPPNAME: 'dbaas-backup',
          PGPASSFILE: '/dev/null',
          PGSERVICEFILE: '/dev/null',
        });
        expect(run.secrets).toEqual([server.adminPassword]);
        // Never a password prompt (a terminal would make the tool wait for it); pg_restore
        // only writes SQL into the pipe: it does not connect.
        if (run.name !== 'pg_restore') expect(run.args).toContain('--no-password');
      }
    } finally {
      runs.mockRestore();
    }
    const out = collector();
    await expect(sut.dump(target, 'no_such_db', out.stream)).rejects.toThrow(/no_such_db/);
    expect(out.stream.destroyed).toBe(true);
    await expect(
      sut.dump({ ...target, adminPassword: 'wrong' }, 'shop', collector().stream),
    ).rejects.toThrow(/password authentication failed/);
  });
});

describe('postgresClientDir', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'dbaas-pg-clients-'));
    for (const major of ['13', '15', '16']) {
      mkdirSync(join(root, major, 'bin'), { recursive: true });
      writeFileSync(join(root, major, 'bin', 'pg_dump'), '');
    }
    mkdirSync(join(root, '17', 'bin'), { recursive: true }); // server only, no client
  });

  describe('found by mutation testing', () => {
    let other: string;
    beforeAll(() => {
      other = mkdtempSync(join(tmpdir(), 'dbaas-pg-clients-'));
      // 14.0 is no bare major version (Number('14.0') is 14 all the same).
      for (const name of ['9', '10', '14.0', '16']) {
        mkdirSync(join(other, name, 'bin'), { recursive: true });
        writeFileSync(join(other, name, 'bin', 'pg_dump'), '');
      }
    });
    afterAll(() => rmSync(other, { recursive: true, force: true }));

    it('orders the clients by number, not by name (10 sorts before 9 as a string)', () => {
      expect(postgresClientDir(other, 9)).toBe(join(other, '9', 'bin'));
      expect(postgresClientDir(other, 10)).toBe(join(other, '10', 'bin'));
    });

    it('takes only folders named by a bare major version', () => {
      expect(postgresClientDir(other, 11)).toBe(join(other, '16', 'bin'));
    });

    it('says which package to install when the client folder itself is missing', () => {
      expect(() => postgresClientDir(join(other, 'missing'), 15)).toThrow(
        /No pg_dump for PostgreSQL 15 .*postgresql-client-15/,
      );
    });

    it('refuses a server_version_num that is zero, negative or not a whole number', () => {
      for (const bad of ['0', '-150020', '150020.5', 'x']) {
        expect(() => majorOfVersionNum(bad)).toThrow(`Not a server_version_num: ${bad}`);
      }
    });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('takes the server major version, else the nearest newer client, never an older one', () => {
    expect(postgresClientDir(root, 15)).toBe(join(root, '15', 'bin'));
    expect(postgresClientDir(root, 14)).toBe(join(root, '15', 'bin'));
    expect(postgresClientDir(root, 12)).toBe(join(root, '13', 'bin'));
    expect(() => postgresClientDir(root, 17)).toThrow(
      /No pg_dump for PostgreSQL 17 .*postgresql-client-17/,
    );
  });

  it('reads the major version from server_version_num', () => {
    expect(majorOfVersionNum('150020')).toBe(15);
    expect(majorOfVersionNum('90624')).toBe(9);
    expect(() => majorOfVersionNum('x')).toThrow();
  });
});
