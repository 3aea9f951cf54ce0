import { Readable } from 'node:stream';
import { BackupCorruptError } from '../common/dump-tool';
import { decodeRecords, encodeEnd, encodeHeader, encodeRecord, RedisRecord } from './redis-records';

const record = (key: string, ttlMs: number, value: string): RedisRecord => ({
  key: Buffer.from(key),
  ttlMs,
  value: Buffer.from(value),
});

const stream = (...records: RedisRecord[]) =>
  Buffer.concat([encodeHeader(), ...records.map(encodeRecord), encodeEnd(records.length)]);

async function decodeAll(input: Readable): Promise<RedisRecord[]> {
  const out: RedisRecord[] = [];
  for await (const item of decodeRecords(input)) out.push(item);
  return out;
}

/** The stream in pieces of `size` bytes, as a file read in small chunks delivers it. */
const inPieces = (bytes: Buffer, size: number) => {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return Readable.from(pieces);
};

describe('Redis dump stream (redis-records)', () => {
  it('writes the documented layout: magic and version, records, end marker and count', () => {
    expect(encodeHeader()).toEqual(Buffer.from('DBAASRDS\x01', 'latin1'));
    expect(encodeRecord(record('k1', 0x1_0000_0002, 'vvv'))).toEqual(
      Buffer.concat([
        Buffer.from([0, 0, 0, 2]),
        Buffer.from('k1'),
        Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]), // TTL over 32 bits
        Buffer.from([0, 0, 0, 3]),
        Buffer.from('vvv'),
      ]),
    );
    expect(encodeEnd(0x1_0000_0003)).toEqual(
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 3]),
    );
  });

  it('reads back what it wrote, whatever the pieces the stream arrives in', async () => {
    const records = [
      record('item:1', 0, 'one'),
      record('session', 3_600_000, 'x'.repeat(300)),
      record('', 0, ''), // an empty key and an empty value still make a record
      record('big-ttl', 2 ** 40, 'z'),
    ];
    const bytes = stream(...records);
    for (const size of [1, 3, 7, bytes.length]) {
      expect(await decodeAll(inPieces(bytes, size))).toEqual(records);
    }
  });

  it('reads a stream of no records', async () => {
    expect(await decodeAll(Readable.from([stream()]))).toEqual([]);
  });

  it.each([
    [
      'wrong magic bytes',
      Buffer.from('PGDMP....'),
      'Not a Redis backup stream (wrong magic bytes)',
    ],
    [
      'another version',
      Buffer.concat([Buffer.from('DBAASRDS\x02', 'latin1'), encodeEnd(0)]),
      'Unsupported Redis backup stream version 2',
    ],
    ['nothing at all', Buffer.alloc(0), 'Redis backup stream ends in the middle of a record'],
    [
      'a cut in the middle of a record',
      stream(record('a', 0, 'value')).subarray(0, 9 + 4 + 1 + 12 + 2),
      'Redis backup stream ends in the middle of a record',
    ],
    [
      'a cut at a record boundary (no end marker)',
      Buffer.concat([encodeHeader(), encodeRecord(record('a', 0, 'v'))]),
      'Redis backup stream ends in the middle of a record',
    ],
    [
      'a count that does not match',
      Buffer.concat([encodeHeader(), encodeRecord(record('a', 0, 'v')), encodeEnd(2)]),
      'Redis backup stream has 1 records, not 2',
    ],
    [
      'bytes after the end',
      Buffer.concat([stream(record('a', 0, 'v')), Buffer.from([0])]),
      'Redis backup stream has bytes after its end',
    ],
  ])('refuses %s', async (_, bytes, message) => {
    const error = await decodeAll(inPieces(bytes, 5)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupCorruptError);
    expect((error as Error).message).toBe(message);
  });

  it('yields each record as it arrives, before the rest of the stream', async () => {
    const input = new Readable({ read: () => undefined });
    input.push(Buffer.concat([encodeHeader(), encodeRecord(record('first', 0, 'v'))]));
    const records = decodeRecords(input);
    const first = await records.next();
    expect(first.value).toEqual(record('first', 0, 'v'));
    input.push(encodeEnd(1));
    input.push(null);
    expect((await records.next()).done).toBe(true);
  });
});
