import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
// The driver's own exports object (jest.spyOn cannot redefine an `import * as` namespace's).
// eslint-disable-next-line @typescript-eslint/no-require-imports
import mysqlPromise = require('mysql2/promise');
import { Connection, createConnection } from 'mysql2/promise';
import {
  checksum,
  collector,
  EngineServer,
  failingAfter,
  startMariaDb,
  targetOf,
} from '../../../../test/harness';
import { BackupToolError } from '../common/dump-tool';
import * as runToolModule from '../common/run-tool';
import { InfraTarget } from '../engine-provider';
import { MariaDbDumpTool } from './mariadb.dump-tool';

describe('MariaDbDumpTool on a real server', () => {
  let server: EngineServer;
  let target: InfraTarget;
  let admin: Connection;
  const sut = new MariaDbDumpTool();

  const rows = async (sql: string) => (await admin.query(sql))[0];
  /** Every row of both tables, plus the routine and trigger definitions. */
  const contents = async (database: string) =>
    checksum({
      items: await rows(`SELECT * FROM \`${database}\`.items ORDER BY id`),
      notes: await rows(`SELECT * FROM \`${database}\`.notes ORDER BY id`),
      routines: await rows(
        `SELECT ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${database}'`,
      ),
      triggers: await rows(
        `SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${database}'`,
      ),
    });
  /** Every table, view, routine and event of the database, by name. */
  const objectsOf = async (database: string) =>
    rows(
      `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}'
       UNION ALL SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${database}'
       UNION ALL SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '${database}'
       ORDER BY 1`,
    );
  const dump = async (database: string) => {
    const out = collector();
    await sut.dump(target, database, out.stream);
    return out.bytes();
  };

  beforeAll(async () => {
    server = await startMariaDb();
    target = targetOf(server);
    admin = await createConnection({
      host: server.host,
      port: server.port,
      user: server.adminUser,
      password: server.adminPassword,
      multipleStatements: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    });
    await admin.query(`
      CREATE DATABASE shop CHARACTER SET utf8mb4;
      CREATE TABLE shop.items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100), price DECIMAL(10,2),
        data VARBINARY(64), at DATETIME(3), big BIGINT) ENGINE=InnoDB;
      CREATE TABLE shop.notes (id INT PRIMARY KEY, body JSON) ENGINE=InnoDB;
      USE shop;
      CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW SET NEW.at = NEW.at;
      CREATE FUNCTION double_it(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;`);
    await admin.query(`INSERT INTO shop.items (name, price, data, at, big)
      SELECT CONCAT('item ', seq, ' é 🙂'), seq * 1.5, UNHEX(MD5(seq)),
        TIMESTAMP('2026-01-01') + INTERVAL seq SECOND, 9007199254740993 + seq FROM shop.seq_1_to_5000`);
    await admin.query(
      `INSERT INTO shop.items (name) VALUES (NULL), ('quote '' and \\\\ backslash')`,
    );
    await admin.query(`INSERT INTO shop.notes
      SELECT seq, JSON_OBJECT('n', seq) FROM shop.seq_1_to_100`);
    // A restore ends every session whose current database is the restored one: not this one.
    await admin.query('USE mysql');
  }, 120_000);
  afterAll(async () => {
    await admin?.end();
    await server?.destroy();
  }, 120_000);

  it('dumps with --single-transaction and restores in place exactly', async () => {
    const before = await contents('shop');
    const objects = await objectsOf('shop');
    const dumped = await dump('shop');
    expect(dumped.toString()).not.toMatch(/CREATE DATABASE|^USE /m); // loads into any name

    await admin.query(`UPDATE shop.items SET name = 'changed' WHERE id % 3 = 0`);
    await admin.query('DELETE FROM shop.items WHERE id > 4000');
    await admin.query('DROP TABLE shop.notes');
    await admin.query('DROP FUNCTION shop.double_it');
    // Objects the backup does not have: they must be gone after the restore.
    await admin.query('CREATE TABLE shop.later (id INT); INSERT INTO shop.later VALUES (1)');
    await admin.query('CREATE VIEW shop.later_view AS SELECT 1 AS one');
    await admin.query('CREATE FUNCTION shop.later_fn() RETURNS INT RETURN 1');
    await admin.query('ALTER DATABASE shop CHARACTER SET latin1 COLLATE latin1_swedish_ci');
    // An account granted on the database, with an open session in it: the grant stays, the session ends.
    await admin.query(`CREATE USER 'reader'@'%' IDENTIFIED BY 'pw-reader'`);
    await admin.query(`GRANT SELECT ON shop.* TO 'reader'@'%'`);
    const reader = () =>
      createConnection({
        host: server.host,
        port: server.port,
        user: 'reader',
        password: 'pw-reader',
        database: 'shop',
      });
    const session = await reader();
    session.on('error', () => undefined);
    await session.query('SELECT 1');

    await sut.restore(target, 'shop', Readable.from([dumped]));
    expect(await contents('shop')).toBe(before);
    expect(await rows('SELECT shop.double_it(21) AS v')).toEqual([{ v: 42 }]);
    expect(await objectsOf('shop')).toEqual(objects);
    expect(
      await rows(
        "SELECT DEFAULT_CHARACTER_SET_NAME AS c, DEFAULT_COLLATION_NAME AS k FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'shop'",
      ),
    ).toEqual([{ c: 'latin1', k: 'latin1_swedish_ci' }]); // the database's own defaults are kept
    await admin.query('ALTER DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci');
    await expect(session.query('SELECT 1')).rejects.toThrow();
    const again = await reader();
    expect((await again.query('SELECT count(*) AS n FROM items'))[0]).toEqual([{ n: 5002 }]);
    await again.end();
    session.destroy();
  });

  it('restores into another database (a clone)', async () => {
    const dumped = await dump('shop');
    await admin.query('CREATE DATABASE shop_copy CHARACTER SET utf8mb4');

    await sut.restore(target, 'shop_copy', Readable.from([dumped]));

    expect(await contents('shop_copy')).toBe(await contents('shop'));
    expect(await rows('SELECT shop_copy.double_it(2) AS v')).toEqual([{ v: 4 }]);
  });

  it('stops loading when the backup fails midway, with its error', async () => {
    const dumped = await dump('shop');
    const cut = failingAfter(dumped.subarray(0, Math.floor(dumped.length / 2)));
    await expect(sut.restore(target, 'shop_copy', cut)).rejects.toThrow('fails authentication');
    // Half restored (MariaDB commits DDL as it goes): the same file again finishes it.
    expect(sut.atomicRestore).toBe(false);
    await sut.restore(target, 'shop_copy', Readable.from([dumped]));
    expect(await contents('shop_copy')).toBe(await contents('shop'));
  });

  it('gives the password through the environment only, and says what failed', async () => {
    const runs = jest.spyOn(runToolModule, 'runTool');
    try {
      await sut.restore(target, 'shop_copy', Readable.from([await dump('shop')]));
      expect(runs).toHaveBeenCalledTimes(2);
      for (const [run] of runs.mock.calls) {
        expect(JSON.stringify([run.command, run.args])).not.toContain(server.adminPassword);
        expect(run.env.MYSQL_PWD).toBe(server.adminPassword);
        expect(run.args[0]).toBe('--no-defaults');
      }
    } finally {
      runs.mockRestore();
    }
    const out = collector();
    await expect(sut.dump(target, 'no_such_db', out.stream)).rejects.toThrow(
      /mariadb-dump failed \(exit code \d+\): .*no_such_db/,
    );
    expect(out.stream.destroyed).toBe(true);
    await expect(
      sut.dump({ ...target, adminPassword: 'wrong' }, 'shop', collector().stream),
    ).rejects.toThrow(/Access denied/);
    await expect(
      sut.restore(target, 'shop_copy', Readable.from([Buffer.from('THIS IS NOT SQL;')])),
    ).rejects.toThrow(BackupToolError);
  });
  describe('found by mutation testing', () => {
    let dir: string;
    /** A stand-in for mariadb-dump and mariadb: keeps its arguments and input, prints the password it got to stderr, fails. */
    let fake: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'dbaas-fake-mariadb-'));
      fake = join(dir, 'fake');
      writeFileSync(
        fake,
        `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\ncat > "${dir}/input"\necho "refused, password $MYSQL_PWD" >&2\nexit 3\n`,
        { mode: 0o755 },
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const tool = () => new MariaDbDumpTool({ dump: fake, client: fake });
    const adminSessions = async () =>
      (await rows(
        `SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '${server.adminUser}' AND ID <> CONNECTION_ID()`,
      )) as { ID: number }[];

    it('keeps the password out of a failed dump or restore message, which names its tool', async () => {
      const dumpFailure = await tool()
        .dump(target, 'shop', collector().stream)
        .catch((error: Error) => error);
      expect((dumpFailure as Error).message).toMatch(/^mariadb-dump failed \(exit code 3\)/);
      expect((dumpFailure as Error).message).toContain('refused, password [redacted]');
      expect((dumpFailure as Error).message).not.toContain(server.adminPassword);

      const restoreFailure = await tool()
        .restore(target, 'fake_db', Readable.from(['SELECT 1;\n']))
        .catch((error: Error) => error);
      expect(restoreFailure).toBeInstanceOf(BackupToolError);
      expect((restoreFailure as Error).message).toMatch(/^mariadb failed \(exit code 3\)/);
      expect((restoreFailure as Error).message).not.toContain(server.adminPassword);
    });

    it('loads a restore with a bounded lock wait, in binary mode, after a prelude that makes the database again', async () => {
      await tool()
        .restore(target, 'fake_db', Readable.from(['SELECT 1;\n']))
        .catch(() => undefined);
      // A database that is not there (a restore cut between DROP and CREATE) gets the defaults.
      expect(readFileSync(join(dir, 'input'), 'utf8')).toBe(
        [
          'SET SESSION lock_wait_timeout = 60;',
          'DROP DATABASE IF EXISTS `fake_db`;',
          'CREATE DATABASE `fake_db` CHARACTER SET `utf8mb4` COLLATE `utf8mb4_unicode_ci`;',
          'USE `fake_db`;',
          'SELECT 1;',
          '',
        ].join('\n'),
      );
      const args = readFileSync(join(dir, 'args'), 'utf8').trimEnd().split('\n');
      expect(args).toEqual(expect.arrayContaining(['--connect-timeout=10', '--binary-mode']));
      expect(args).not.toContain('');
    });

    it('closes its own connection after ending the sessions of a restored database', async () => {
      const before = await adminSessions();
      await sut.restore(target, 'shop_copy', Readable.from([await dump('shop')]));
      await tool()
        .restore(target, 'shop_copy', Readable.from(['SELECT 1;\n']))
        .catch(() => undefined);
      // The server forgets a closed connection a moment after the client ends it.
      for (let i = 0; i < 50 && (await adminSessions()).length > before.length; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await adminSessions()).toEqual(before);
    });
    /** The tool's own connection, its KILL CONNECTION statements preceded by `beforeKill`. */
    const beforeEachKill = (beforeKill: () => Promise<void>) => {
      const connect = mysqlPromise.createConnection;
      return jest.spyOn(mysqlPromise, 'createConnection').mockImplementation((async (
        options: mysqlPromise.ConnectionOptions,
      ) => {
        const connection = await connect(options);
        const query = connection.query.bind(connection);
        connection.query = (async (sql: string, ...rest: unknown[]) => {
          if (typeof sql === 'string' && sql.startsWith('KILL CONNECTION')) await beforeKill();
          return (query as (...args: unknown[]) => unknown)(sql, ...rest);
        }) as typeof connection.query;
        return connection;
      }) as typeof mysqlPromise.createConnection);
    };

    /** An open session on shop_kill (made if missing): what the restore must KILL. */
    async function openSessionOnShopKill() {
      await admin.query('CREATE DATABASE IF NOT EXISTS shop_kill');
      return createConnection({
        host: server.host,
        port: server.port,
        user: server.adminUser,
        password: server.adminPassword,
        database: 'shop_kill',
      });
    }

    it('restores when a session of the database ends between the look-up and its KILL (error 1094)', async () => {
      const dumped = await dump('shop');
      const session = await openSessionOnShopKill();
      const id = (await session.query('SELECT CONNECTION_ID() AS id'))[0] as { id: number }[];
      const spy = beforeEachKill(async () => {
        await session.end();
        for (let i = 0; i < 100; i++) {
          const left = (await rows(
            `SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ${Number(id[0].id)}`,
          )) as unknown[];
          if (left.length === 0) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      });
      try {
        await sut.restore(target, 'shop_kill', Readable.from([dumped]));
      } finally {
        spy.mockRestore();
      }
      expect(await contents('shop_kill')).toBe(await contents('shop'));
    });

    it('fails a restore whose KILL of a session fails otherwise, with that error', async () => {
      const dumped = await dump('shop');
      const session = await openSessionOnShopKill();
      const spy = beforeEachKill(() =>
        Promise.reject(Object.assign(new Error('You are not owner of thread'), { errno: 1095 })),
      );
      try {
        await expect(sut.restore(target, 'shop_kill', Readable.from([dumped]))).rejects.toThrow(
          'You are not owner of thread',
        );
      } finally {
        spy.mockRestore();
        await session.end();
      }
    });
  });
});
