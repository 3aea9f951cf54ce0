import { createHash, randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createConnection, RowDataPacket } from 'mysql2/promise';
import { Client } from 'pg';

/**
 * Data written and read back through the engines' own clients (pg, mysql2, ioredis), logged
 * in with a dbaas credential as an application would: for the backup and restore proofs.
 * `checksum` digests everything the database holds that a restore must bring back (every
 * table's rows / every key's type, value and time to live), `seed` writes a known data set,
 * `mutate` changes and deletes some of it and adds a table / key.
 */
export interface DataSession {
  seed(): Promise<void>;
  mutate(): Promise<void>;
  /** Table names / keys (without prefix) and a digest of each one's content. */
  checksum(): Promise<Record<string, string>>;
  /** Rejects once the server ended the session. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type DataLogin = (
  port: number,
  database: string,
  user: string,
  password: string,
) => Promise<DataSession>;

const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
const ROWS = 300;

export const postgresData: DataLogin = async (port, database, user, password) => {
  const client = new Client({ host: '127.0.0.1', port, user, password, database });
  client.on('error', () => undefined);
  await client.connect();
  return {
    async seed() {
      await client.query(`CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL,
        amount numeric(12, 2), note text, payload bytea, created timestamptz DEFAULT now())`);
      await client.query(`CREATE TABLE customers (name text PRIMARY KEY, since date)`);
      await client.query(`CREATE INDEX orders_customer ON orders (customer)`);
      await client.query(
        `INSERT INTO orders (id, customer, amount, note, payload)
         SELECT i, 'c' || (i % 17), i * 1.25, CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || i END,
                decode(md5(i::text), 'hex')
           FROM generate_series(1, ${ROWS}) AS i`,
      );
      await client.query(
        `INSERT INTO customers SELECT 'c' || i, date '2020-01-01' + i FROM generate_series(0, 16) AS i`,
      );
    },
    async mutate() {
      await client.query(`UPDATE orders SET amount = amount + 1 WHERE id % 3 = 0`);
      await client.query(`DELETE FROM orders WHERE id > ${ROWS - 50}`);
      await client.query(`DROP TABLE customers`);
      await client.query(`CREATE TABLE added_later (x int)`);
      await client.query(`INSERT INTO added_later VALUES (1), (2)`);
    },
    async checksum() {
      const tables = await client.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = 'public' ORDER BY 1`,
      );
      const sums: Record<string, string> = {};
      for (const { name } of tables.rows) {
        const { rows } = await client.query<{ sum: string }>(
          `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS sum FROM "${name}" t`,
        );
        sums[name] = rows[0].sum;
      }
      return sums;
    },
    async ping() {
      await client.query('SELECT 1');
    },
    async close() {
      await client.end().catch(() => undefined);
    },
  };
};

export const mariadbData: DataLogin = async (port, database, user, password) => {
  const connection = await createConnection({
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
  });
  connection.on('error', () => undefined);
  return {
    async seed() {
      await connection.query(`CREATE TABLE orders (id int PRIMARY KEY, customer varchar(20) NOT NULL,
        amount decimal(12, 2), note text, payload varbinary(32), KEY (customer)) ENGINE=InnoDB`);
      await connection.query(`CREATE TABLE customers (name varchar(20) PRIMARY KEY, since date)`);
      const rows = Array.from({ length: ROWS }, (_, n) => {
        const i = n + 1;
        return [
          i,
          `c${i % 17}`,
          i * 1.25,
          i % 5 === 0 ? null : `note ${i}`,
          createHash('md5').update(String(i)).digest(),
        ];
      });
      await connection.query('INSERT INTO orders (id, customer, amount, note, payload) VALUES ?', [
        rows,
      ]);
      await connection.query('INSERT INTO customers VALUES ?', [
        Array.from({ length: 17 }, (_, i) => [
          `c${i}`,
          `2020-01-${String((i % 28) + 1).padStart(2, '0')}`,
        ]),
      ]);
    },
    async mutate() {
      await connection.query(`UPDATE orders SET amount = amount + 1 WHERE id % 3 = 0`);
      await connection.query(`DELETE FROM orders WHERE id > ${ROWS - 50}`);
      await connection.query(`DROP TABLE customers`);
      await connection.query(`CREATE TABLE added_later (x int)`);
      await connection.query(`INSERT INTO added_later VALUES (1), (2)`);
    },
    async checksum() {
      const [tables] = await connection.query<RowDataPacket[]>(
        `SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = DATABASE() ORDER BY 1`,
      );
      const sums: Record<string, string> = {};
      for (const { name } of tables as { name: string }[]) {
        const [rows] = await connection.query<RowDataPacket[]>(
          `SELECT * FROM \`${name}\` ORDER BY 1`,
        );
        sums[name] = sha(rows);
      }
      return sums;
    },
    async ping() {
      await connection.query('SELECT 1');
    },
    async close() {
      await connection.end().catch(() => undefined);
    },
  };
};

/** An hour: keys with a time to live keep about this much after a restore. */
export const REDIS_TTL_MS = 3_600_000;

export const redisData: DataLogin = async (port, database, user, password) => {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    username: user,
    password,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
  });
  client.on('error', () => undefined);
  await client.connect();
  await client.ping();
  const key = (name: string) => `${database}:${name}`;
  // Every key any step writes; those that do not exist are left out of the checksum.
  const names = [
    ...Array.from({ length: ROWS }, (_, i) => `str:${i}`),
    ...['hash', 'list', 'set', 'zset', 'binary', 'expiring', 'expiring_hash', 'added_later'],
  ];
  const binary = randomBytes(64);
  return {
    async seed() {
      const batch = client.pipeline();
      for (let i = 0; i < ROWS; i++) batch.set(key(`str:${i}`), `value ${i}`);
      batch.hset(key('hash'), { a: '1', b: '2', c: 'three' });
      batch.rpush(key('list'), 'x', 'y', 'z', 'x');
      batch.sadd(key('set'), 'p', 'q', 'r');
      batch.zadd(key('zset'), 1, 'one', 2.5, 'two and a half');
      batch.set(key('binary'), binary);
      batch.set(key('expiring'), 'soon', 'PX', REDIS_TTL_MS);
      batch.hset(key('expiring_hash'), { f: 'v' });
      batch.pexpire(key('expiring_hash'), REDIS_TTL_MS);
      await batch.exec();
    },
    async mutate() {
      await client.set(key('str:1'), 'changed');
      await client.del(key('str:2'), key('hash'));
      await client.rpush(key('list'), 'more');
      await client.persist(key('expiring'));
      await client.set(key('added_later'), 'new');
    },
    /** Every key this session wrote: its type, value and whether/how long it expires. */
    async checksum() {
      const sums: Record<string, string> = {};
      for (const name of [...names].sort()) {
        const k = key(name);
        const type = await client.type(k);
        if (type === 'none') continue;
        let value: unknown;
        if (type === 'string') value = (await client.getBuffer(k))?.toString('hex');
        else if (type === 'hash') value = Object.entries(await client.hgetall(k)).sort();
        else if (type === 'list') value = await client.lrange(k, 0, -1);
        else if (type === 'set') value = (await client.smembers(k)).sort();
        else if (type === 'zset') value = await client.zrange(k, 0, -1, 'WITHSCORES');
        const pttl = await client.pttl(k);
        // The time left shrinks as the test runs (a restore gives back what was left at the
        // dump): kept is that it expires, within the hour and not before 50 minutes.
        const kept = pttl > REDIS_TTL_MS - 600_000 && pttl <= REDIS_TTL_MS;
        const expires = pttl === -1 ? 'never' : kept ? 'in 50-60 min' : `odd ${pttl}`;
        sums[name] = sha({ type, value, expires });
      }
      return sums;
    },
    async ping() {
      await client.ping();
    },
    async close() {
      client.disconnect();
    },
  };
};
