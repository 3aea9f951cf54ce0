import { Readable } from 'node:stream';
import { BackupCorruptError } from '../common/dump-tool';
import { ByteQueue } from '../common/byte-queue';

/**
 * The Redis dump stream, version 1:
 *
 *   "DBAASRDS" | version 1 (1 byte)
 *   records:   key length (uint32 BE) | key, without the database's prefix
 *              | TTL in ms (uint64 BE; 0 = none) | value length (uint32 BE) | DUMP payload
 *   end:       0xFFFFFFFF | record count (uint64 BE)
 *
 * The end marker and count make a stream cut at a record boundary fail, not pass.
 */
const MAGIC = Buffer.from('DBAASRDS', 'ascii');
const VERSION = 1;
const END = 0xffffffff;

export interface RedisRecord {
  /** The key without its database prefix. */
  key: Buffer;
  /** Remaining time to live when dumped, in ms; 0 for none. */
  ttlMs: number;
  /** The payload of DUMP (type, value and Redis's own checksum). */
  value: Buffer;
}

export function encodeHeader(): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([VERSION])]);
}

export function encodeRecord(record: RedisRecord): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(record.key.length);
  const middle = Buffer.alloc(12);
  middle.writeBigUInt64BE(BigInt(record.ttlMs), 0);
  middle.writeUInt32BE(record.value.length, 8);
  return Buffer.concat([head, record.key, middle, record.value]);
}

export function encodeEnd(count: number): Buffer {
  const end = Buffer.alloc(12);
  end.writeUInt32BE(END, 0);
  end.writeBigUInt64BE(BigInt(count), 4);
  return end;
}

/** The records of a Redis dump stream, read as they arrive. */
export async function* decodeRecords(input: Readable): AsyncGenerator<RedisRecord> {
  const reader = new ExactReader(input);
  const header = await reader.read(MAGIC.length + 1);
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupCorruptError('Not a Redis backup stream (wrong magic bytes)');
  }
  if (header[MAGIC.length] !== VERSION) {
    throw new BackupCorruptError(`Unsupported Redis backup stream version ${header[MAGIC.length]}`);
  }
  let count = 0;
  for (;;) {
    const keyLength = (await reader.read(4)).readUInt32BE(0);
    if (keyLength === END) {
      const expected = Number((await reader.read(8)).readBigUInt64BE(0));
      if (expected !== count) {
        throw new BackupCorruptError(`Redis backup stream has ${count} records, not ${expected}`);
      }
      if (!(await reader.atEnd()))
        throw new BackupCorruptError('Redis backup stream has bytes after its end');
      return;
    }
    const key = await reader.read(keyLength);
    const middle = await reader.read(12);
    const value = await reader.read(middle.readUInt32BE(8));
    count++;
    yield { key, ttlMs: Number(middle.readBigUInt64BE(0)), value };
  }
}

/** Reads exactly n bytes at a time from a stream. */
class ExactReader {
  private readonly queue = new ByteQueue();
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(input: Readable) {
    this.chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async read(count: number): Promise<Buffer> {
    while (this.queue.length < count) {
      if (!(await this.pull())) {
        throw new BackupCorruptError('Redis backup stream ends in the middle of a record');
      }
    }
    return this.queue.take(count);
  }

  async atEnd(): Promise<boolean> {
    return this.queue.length === 0 && !(await this.pull());
  }

  private async pull(): Promise<boolean> {
    const next: IteratorResult<Buffer> = await this.chunks.next();
    if (next.done) return false;
    this.queue.push(next.value);
    return true;
  }
}
