import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { MongoClient } from 'mongodb';
import { RowDataPacket, createConnection } from 'mysql2/promise';
import { Client } from 'pg';

/**
 * A login as a dbaas credential, through the engine's own client library: what an
 * application would do with the credential. Every engine offers the same verbs so that
 * one contract suite can run against all of them.
 */
export interface UserSession {
  /** Creates the test table/collection (needs owner rights; a no-op for Redis). */
  init(): Promise<void>;
  write(key: string, value: string): Promise<void>;
  read(key: string): Promise<string | null>;
  /** Reads a key of another database with this login. */
  readOther(database: string, key: string): Promise<string | null>;
  /** Writes about `bytes` of incompressible data. */
  fill(bytes: number): Promise<void>;
  /** A trivial round trip: rejects once the session was ended by the server. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type Login = (database: string, user: string, password: string) => Promise<UserSession>;

const randomText = (bytes: number) =>
  randomBytes(Math.ceil(bytes / 2))
    .toString('hex')
    .slice(0, bytes);

export function postgresLogin(host: string, port: number): Login {
  return async (database, user, password) => {
    const client = new Client({
      host,
      port,
      user,
      password,
      database,
      connectionTimeoutMillis: 3000,
    });
    client.on('error', () => undefined);
    await client.connect().catch(async (error) => {
      await client.end().catch(() => undefined);
      throw error;
    });
    return {
      init: async () => {
        await client.query('CREATE TABLE IF NOT EXISTS kv (k text PRIMARY KEY, v text)');
      },
      write: async (k, v) => {
        await client.query(
          'INSERT INTO kv VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v',
          [k, v],
        );
      },
      read: async (k) =>
        (await client.query('SELECT v FROM kv WHERE k = $1', [k])).rows[0]?.v ?? null,
      // A PostgreSQL session is bound to one database: reading another one means logging in there.
      readOther: async (other, k) => {
        const session = await postgresLogin(host, port)(other, user, password);
        try {
          return await session.read(k);
        } finally {
          await session.close();
        }
      },
      fill: async (bytes) => {
        // Random hex defeats TOAST compression only partly; 64 kB chunks keep rows reasonable.
        for (let done = 0, i = 0; done < bytes; done += 65536, i++) {
          await client.query('INSERT INTO kv VALUES ($1, $2)', [
            `fill_${i}_${randomText(8)}`,
            randomText(65536),
          ]);
        }
      },
      ping: async () => {
        await client.query('SELECT 1');
      },
      close: () => client.end().catch(() => undefined),
    };
  };
}

export function mysqlLogin(host: string, port: number): Login {
  return async (database, user, password) => {
    const conn = await createConnection({
      host,
      port,
      user,
      password,
      database,
      connectTimeout: 3000,
    });
    conn.on('error', () => undefined);
    return {
      init: async () => {
        await conn.query(
          'CREATE TABLE IF NOT EXISTS kv (k VARCHAR(191) PRIMARY KEY, v LONGTEXT) ENGINE=InnoDB',
        );
      },
      write: async (k, v) => {
        await conn.query('INSERT INTO kv VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)', [
          k,
          v,
        ]);
      },
      read: async (k) => {
        const [rows] = await conn.query<RowDataPacket[]>('SELECT v FROM kv WHERE k = ?', [k]);
        return rows[0]?.v ?? null;
      },
      readOther: async (other, k) => {
        const [rows] = await conn.query<RowDataPacket[]>(
          `SELECT v FROM \`${other}\`.kv WHERE k = ?`,
          [k],
        );
        return rows[0]?.v ?? null;
      },
      fill: async (bytes) => {
        for (let done = 0, i = 0; done < bytes; done += 65536, i++) {
          await conn.query('INSERT INTO kv VALUES (?, ?)', [
            `fill_${i}_${randomText(8)}`,
            randomText(65536),
          ]);
        }
      },
      ping: async () => {
        await conn.query('SELECT 1');
      },
      close: () => conn.end().catch(() => undefined),
    };
  };
}

export function redisLogin(host: string, port: number): Login {
  return async (database, user, password) => {
    // Reconnection is off so that a killed session stays dead. The ready check is off only
    // because dbaas users may not run INFO: with it on, ioredis connects all the same but
    // prints a warning for every login (checked by hand; see redis-acl.ts).
    const client = new Redis({
      host,
      port,
      username: user,
      password,
      lazyConnect: true,
      connectTimeout: 3000,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      enableReadyCheck: false,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping(); // without the ready check, connect() does not wait for AUTH's answer
    } catch (error) {
      client.disconnect();
      throw error;
    }
    return {
      init: async () => undefined,
      write: async (k, v) => {
        await client.set(`${database}:${k}`, v);
      },
      read: (k) => client.get(`${database}:${k}`),
      readOther: (other, k) => client.get(`${other}:${k}`),
      fill: async (bytes) => {
        for (let done = 0, i = 0; done < bytes; done += 65536, i++) {
          await client.set(`${database}:fill_${i}`, randomText(65536));
        }
      },
      ping: async () => {
        await client.ping();
      },
      close: async () => {
        client.disconnect();
      },
    };
  };
}

export function mongoLogin(hosts: string): Login {
  return async (database, user, password) => {
    const client = new MongoClient(`mongodb://${hosts}/${database}`, {
      auth: { username: user, password },
      authSource: database,
      serverSelectionTimeoutMS: 3000,
      connectTimeoutMS: 3000,
      directConnection: !hosts.includes(','),
    });
    await client.connect().catch(async (error) => {
      await client.close().catch(() => undefined);
      throw error;
    });
    const kv = client.db(database).collection<{ _id: string; v: string }>('kv');
    return {
      init: async () => {
        await client
          .db(database)
          .createCollection('kv')
          .catch(() => undefined);
      },
      write: async (k, v) => {
        await kv.updateOne({ _id: k }, { $set: { v } }, { upsert: true });
      },
      read: async (k) => (await kv.findOne({ _id: k }))?.v ?? null,
      readOther: async (other, k) =>
        (await client.db(other).collection<{ _id: string; v: string }>('kv').findOne({ _id: k }))
          ?.v ?? null,
      fill: async (bytes) => {
        for (let done = 0, i = 0; done < bytes; done += 65536, i++) {
          await kv.insertOne({ _id: `fill_${i}_${randomText(8)}`, v: randomText(65536) });
        }
      },
      ping: async () => {
        await client.db(database).command({ ping: 1 });
        await kv.findOne({});
      },
      close: () => client.close().catch(() => undefined),
    };
  };
}
