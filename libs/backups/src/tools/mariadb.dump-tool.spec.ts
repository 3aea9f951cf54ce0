import { Readable } from 'node:stream';
import { Connection, createConnection } from 'mysql2/promise';
import { EngineServer, startMariaDb } from '../../../../test/harness';
import { BackupToolError } from '../backup-errors';
import { DumpTarget } from './dump-tool';
import { MariaDbDumpTool } from './mariadb.dump-tool';
import * as runToolModule from './run-tool';
import { checksum, collector, failingAfter } from './tool-test-helpers';

describe('MariaDbDumpTool on a real server', () => {
  let server: EngineServer;
  let target: DumpTarget;
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
  const dump = async (database: string) => {
    const out = collector();
    await sut.dump(target, database, out.stream);
    return out.bytes();
  };

  beforeAll(async () => {
    server = await startMariaDb();
    target = {
      host: server.host,
      port: server.port,
      adminUser: server.adminUser,
      adminPassword: server.adminPassword,
    };
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
  });
  afterAll(async () => {
    await admin?.end();
    await server?.destroy();
  });

  it('dumps with --single-transaction and restores in place exactly', async () => {
    const before = await contents('shop');
    const dumped = await dump('shop');
    expect(dumped.toString()).not.toMatch(/CREATE DATABASE|^USE /m); // loads into any name

    await admin.query(`UPDATE shop.items SET name = 'changed' WHERE id % 3 = 0`);
    await admin.query('DELETE FROM shop.items WHERE id > 4000');
    await admin.query('DROP TABLE shop.notes');
    await admin.query('DROP FUNCTION shop.double_it');

    await sut.restore(target, 'shop', Readable.from([dumped]));
    expect(await contents('shop')).toBe(before);
    expect(await rows('SELECT shop.double_it(21) AS v')).toEqual([{ v: 42 }]);
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
});
