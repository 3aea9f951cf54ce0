import { Readable, Writable } from 'node:stream';
import Redis from 'ioredis';
import { InfraTarget } from '../engine-provider';
import { adminAddress, assertPlainName, DumpTool, holdErrors } from '../common/dump-tool';
import { decodeBatches, encodeEnd, encodeHeader, encodeRecord, RedisRecord } from './redis-records';

const DEFAULT_PORT = 6379;
const SCAN_COUNT = 1000;
const RESTORE_BATCH = 500;

/**
 * Redis: a database is the key prefix `name:`. A dump is every key of the prefix (SCAN
 * MATCH, then DUMP and PTTL in pipelined batches) as records without the prefix (see
 * redis-records.ts); a restore is RESTORE … REPLACE of each under the target's prefix, so
 * restoring into another name rewrites the prefix (a clone). Keys keep the time to live
 * they had left when dumped. SCAN is not a snapshot: a key written during the dump may or
 * may not be in it.
 *
 * A restore in place first deletes every key of the prefix (UNLINK), once the input is
 * known to be a Redis backup stream (its first record read), so keys written after the
 * backup are gone. Redis has no sessions per prefix: none are ended. Not atomic
 * (`atomicRestore` false): cut short, the prefix holds part of the backup's keys; run the
 * restore again from the same file.
 */
export class RedisDumpTool implements DumpTool {
  readonly atomicRestore = false;

  async dump(target: InfraTarget, database: string, out: Writable): Promise<void> {
    let redis: Redis | undefined;
    try {
      const prefix = `${assertPlainName(database)}:`;
      redis = await connect(target);
      let count = 0;
      await write(out, encodeHeader());
      let cursor = '0';
      do {
        const [next, keys] = await redis.scanBuffer(
          cursor,
          'MATCH',
          `${globEscape(prefix)}*`,
          'COUNT',
          SCAN_COUNT,
        );
        cursor = next.toString();
        const records = await this.read(redis, keys);
        // One write for the batch: the output's stream work is per write, not per byte.
        const bytes = records.map((record) =>
          encodeRecord({ ...record, key: record.key.subarray(prefix.length) }),
        );
        if (bytes.length > 0) await write(out, Buffer.concat(bytes));
        count += records.length;
      } while (cursor !== '0');
      await write(out, encodeEnd(count));
      out.end();
    } catch (error) {
      out.destroy(error as Error);
      throw error;
    } finally {
      redis?.disconnect();
    }
  }

  async restore(target: InfraTarget, database: string, input: Readable): Promise<void> {
    holdErrors(input);
    let redis: Redis | undefined;
    try {
      const prefix = Buffer.from(`${assertPlainName(database)}:`);
      redis = await connect(target);
      const batches = decodeBatches(input);
      let next = await batches.next(); // a wrong stream is refused before anything is deleted
      await deletePrefix(redis, prefix);
      let batch = redis.pipeline();
      for (; !next.done; next = await batches.next()) {
        for (const record of next.value) {
          batch.restore(Buffer.concat([prefix, record.key]), record.ttlMs, record.value, 'REPLACE');
          if (batch.length >= RESTORE_BATCH) {
            await run(batch);
            batch = redis.pipeline();
          }
        }
      }
      await run(batch);
    } catch (error) {
      input.destroy();
      throw error;
    } finally {
      redis?.disconnect();
    }
  }

  /** DUMP and PTTL of a batch of keys; keys gone meanwhile are left out. */
  private async read(redis: Redis, keys: Buffer[]): Promise<RedisRecord[]> {
    if (keys.length === 0) return [];
    const batch = redis.pipeline();
    for (const key of keys) batch.dumpBuffer(key).pttl(key);
    const replies = await run(batch);
    const records: RedisRecord[] = [];
    keys.forEach((key, i) => {
      const value = replies[2 * i] as Buffer | null;
      const pttl = replies[2 * i + 1] as number;
      if (value === null || pttl === -2) return;
      records.push({ key, value, ttlMs: pttl > 0 ? pttl : 0 });
    });
    return records;
  }
}

/** UNLINK of every key of the prefix, in SCAN batches. */
async function deletePrefix(redis: Redis, prefix: Buffer): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scanBuffer(
      cursor,
      'MATCH',
      `${globEscape(prefix.toString())}*`,
      'COUNT',
      SCAN_COUNT,
    );
    cursor = next.toString();
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

async function connect(target: InfraTarget): Promise<Redis> {
  const redis = new Redis({
    ...adminAddress(target, DEFAULT_PORT),
    username: target.adminUser,
    password: target.adminPassword,
    lazyConnect: true,
    connectTimeout: 10_000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  let refused: Error | undefined;
  redis.on('error', (error: Error) => (refused ??= error)); // later failures reach the commands
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw refused ?? error; // WRONGPASS says more than "Connection is closed"
  }
  return redis;
}

/** Runs a pipeline; the first error of any command fails the whole. */
async function run(batch: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  if (batch.length === 0) return [];
  const replies = (await batch.exec()) ?? [];
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** Honours backpressure: waits for `drain` when the stream's buffer is full. */
async function write(out: Writable, bytes: Buffer): Promise<void> {
  if (out.destroyed) throw new Error('The dump output was closed before the end');
  if (out.write(bytes)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      out.off('drain', onDrain).off('close', onClose).off('error', done);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('The dump output was closed before the end'));
    out.on('drain', onDrain).on('close', onClose).on('error', done);
  });
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
