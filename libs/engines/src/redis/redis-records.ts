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

/**
 * The records of a Redis dump stream as they arrive: a batch for each chunk read (the
 * records that chunk completed), decoded without waiting on anything in between. The first
 * batch comes once the header has been checked, so a stream that is not a Redis backup
 * fails before the caller changed anything.
 */
export async function* decodeBatches(input: Readable): AsyncGenerator<RedisRecord[]> {
  const decoder = new RecordDecoder();
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const records = decoder.push(chunk);
    if (decoder.headerChecked) yield records;
  }
  decoder.end();
}

type Field = 'header' | 'keyLength' | 'key' | 'ttlAndValueLength' | 'value' | 'count' | 'ended';

/**
 * Cuts a Redis dump stream into records, a chunk at a time: each field is taken from the
 * queue once all its bytes are in, so a record split across chunks (a large value) is
 * copied once, when complete.
 */
export class RecordDecoder {
  private readonly queue = new ByteQueue();
  private field: Field = 'header';
  private key: Buffer = Buffer.alloc(0);
  private ttlMs = 0;
  private valueLength = 0;
  private keyLength = 0;
  private count = 0;

  get headerChecked(): boolean {
    return this.field !== 'header';
  }

  /** The records `chunk` completed. */
  push(chunk: Buffer): RedisRecord[] {
    this.queue.push(chunk);
    const records: RedisRecord[] = [];
    while (this.field !== 'ended' && this.queue.length >= this.needed()) {
      const record = this.take(this.queue.take(this.needed()));
      if (record) records.push(record);
    }
    if (this.field === 'ended' && this.queue.length > 0)
      throw new BackupCorruptError('Redis backup stream has bytes after its end');
    return records;
  }

  /** At the end of the input: fails unless the stream ended with its end marker. */
  end(): void {
    if (this.field !== 'ended')
      throw new BackupCorruptError('Redis backup stream ends in the middle of a record');
  }

  private needed(): number {
    switch (this.field) {
      case 'header':
        return MAGIC.length + 1;
      case 'keyLength':
        return 4;
      case 'key':
        return this.keyLength;
      case 'ttlAndValueLength':
        return 12;
      case 'value':
        return this.valueLength;
      default:
        return 8; // the record count after the end marker
    }
  }

  /** Takes the bytes of the current field; returns a record when they complete one. */
  private take(bytes: Buffer): RedisRecord | undefined {
    switch (this.field) {
      case 'header':
        checkHeader(bytes);
        this.field = 'keyLength';
        return undefined;
      case 'keyLength':
        this.keyLength = bytes.readUInt32BE(0);
        this.field = this.keyLength === END ? 'count' : 'key';
        return undefined;
      case 'key':
        this.key = bytes;
        this.field = 'ttlAndValueLength';
        return undefined;
      case 'ttlAndValueLength':
        this.ttlMs = Number(bytes.readBigUInt64BE(0));
        this.valueLength = bytes.readUInt32BE(8);
        this.field = 'value';
        return undefined;
      case 'value':
        this.count++;
        this.field = 'keyLength';
        return { key: this.key, ttlMs: this.ttlMs, value: bytes };
      default: {
        const expected = Number(bytes.readBigUInt64BE(0));
        if (expected !== this.count) {
          throw new BackupCorruptError(
            `Redis backup stream has ${this.count} records, not ${expected}`,
          );
        }
        this.field = 'ended';
        return undefined;
      }
    }
  }
}

function checkHeader(header: Buffer): void {
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupCorruptError('Not a Redis backup stream (wrong magic bytes)');
  }
  if (header[MAGIC.length] !== VERSION) {
    throw new BackupCorruptError(`Unsupported Redis backup stream version ${header[MAGIC.length]}`);
  }
}
