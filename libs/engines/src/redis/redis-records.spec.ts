import { Readable } from 'node:stream';
import { BackupCorruptError } from '../common/dump-tool';
import {
  decodeBatches,
  encodeEnd,
  encodeHeader,
  encodeRecord,
  RecordDecoder,
  RedisRecord,
} from './redis-records';

const records: RedisRecord[] = [
  { key: Buffer.from('a'), ttlMs: 0, value: Buffer.from([1, 2, 3]) },
  { key: Buffer.alloc(0), ttlMs: 86_400_000, value: Buffer.alloc(0) },
  { key: Buffer.from('big'), ttlMs: 5, value: Buffer.alloc(5000, 7) },
];

function stream(): Buffer {
  return Buffer.concat([encodeHeader(), ...records.map(encodeRecord), encodeEnd(records.length)]);
}

async function decodeAll(chunks: Buffer[]): Promise<RedisRecord[][]> {
  const batches: RedisRecord[][] = [];
  for await (const batch of decodeBatches(Readable.from(chunks))) batches.push(batch);
  return batches;
}

/** `bytes` cut into pieces of `size`. */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe('Redis dump stream records', () => {
  it('decodes the same records however the stream is cut into chunks', async () => {
    for (const size of [1, 3, 13, 4096, 100_000]) {
      const batches = await decodeAll(pieces(stream(), size));
      expect(batches.flat()).toEqual(records);
    }
  });

  it('gives a batch for each chunk: the records that chunk completed', async () => {
    const bytes = stream();
    const firstRecordEnds = encodeHeader().length + encodeRecord(records[0]).length;
    const batches = await decodeAll([
      bytes.subarray(0, firstRecordEnds),
      bytes.subarray(firstRecordEnds),
    ]);
    expect(batches.map((batch) => batch.length)).toEqual([1, 2]);
  });

  it('checks the header before giving anything: a foreign stream fails on its first chunk', async () => {
    const decoder = new RecordDecoder();
    expect(decoder.push(encodeHeader().subarray(0, 4))).toEqual([]);
    expect(decoder.headerChecked).toBe(false);
    expect(() => new RecordDecoder().push(Buffer.from('PGDMP....'))).toThrow(
      'Not a Redis backup stream',
    );
    const version2 = encodeHeader();
    version2[version2.length - 1] = 2;
    expect(() => new RecordDecoder().push(version2)).toThrow('version 2');
  });

  it('refuses a stream that is cut, miscounted or longer than its end', async () => {
    const bytes = stream();
    await expect(decodeAll([bytes.subarray(0, bytes.length - 1)])).rejects.toThrow(
      'ends in the middle of a record',
    );
    await expect(decodeAll([])).rejects.toThrow('ends in the middle of a record');
    const noEnd = Buffer.concat([encodeHeader(), encodeRecord(records[0])]);
    await expect(decodeAll([noEnd])).rejects.toThrow(BackupCorruptError);
    await expect(decodeAll([Buffer.concat([encodeHeader(), encodeEnd(1)])])).rejects.toThrow(
      'has 0 records, not 1',
    );
    await expect(decodeAll([bytes, Buffer.from([0])])).rejects.toThrow('bytes after its end');
  });
  it('writes the documented layout: magic and version, records, end marker and count', () => {
    expect(encodeHeader()).toEqual(Buffer.from('DBAASRDS\x01', 'latin1'));
    expect(
      encodeRecord({ key: Buffer.from('k1'), ttlMs: 0x1_0000_0002, value: Buffer.from('vvv') }),
    ).toEqual(
      Buffer.concat([
        Buffer.from([0, 0, 0, 2]),
        Buffer.from('k1'),
        Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]), // a TTL over 32 bits
        Buffer.from([0, 0, 0, 3]),
        Buffer.from('vvv'),
      ]),
    );
    expect(encodeEnd(0x1_0000_0003)).toEqual(
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 3]),
    );
  });
});
