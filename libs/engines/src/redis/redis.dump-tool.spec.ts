import { AddressInfo, createServer } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import Redis from 'ioredis';
import {
  collector,
  EngineServer,
  failingAfter,
  startRedis,
  targetOf,
} from '../../../../test/harness';
import { BackupCorruptError } from '../common/dump-tool';
import { InfraTarget } from '../engine-provider';
import { encodeEnd, encodeHeader, encodeRecord } from './redis-records';
import { RedisDumpTool } from './redis.dump-tool';

const HOUR_MS = 3_600_000;

describe('RedisDumpTool on a real server', () => {
  let server: EngineServer;
  let target: InfraTarget;
  let redis: Redis;
  const sut = new RedisDumpTool();

  /** A key's value, read by type; sets and hashes sorted (their DUMP order is not stable). */
  const valueOf = async (key: Buffer): Promise<unknown> => {
    const hex = (items: Buffer[]) => items.map((item) => item.toString('hex'));
    switch (await redis.type(key)) {
      case 'string':
        return hex([(await redis.getBuffer(key))!]);
      case 'list':
        return hex(await redis.lrangeBuffer(key, 0, -1));
      case 'set':
        return hex(await redis.smembersBuffer(key)).sort();
      case 'hash':
        return Object.entries(await redis.hgetall(key))
          .map(([field, value]) => `${field}=${value}`)
          .sort();
      case 'zset':
        return await redis.zrange(key, 0, -1, 'WITHSCORES');
      case 'stream':
        return await redis.xrange(key, '-', '+');
      default:
        throw new Error('a type this test does not read');
    }
  };
  /** The keys of a prefix (without it), their values and whether they expire. */
  const contents = async (prefix: string) => {
    const keys = (await redis.keysBuffer(`${prefix}:*`)).sort(Buffer.compare);
    const entries = [];
    for (const key of keys) {
      entries.push({
        key: key.subarray(prefix.length + 1).toString('hex'),
        value: await valueOf(key),
        expires: (await redis.pttl(key)) > 0,
      });
    }
    return entries;
  };
  const dump = async (database: string) => {
    const out = collector();
    await sut.dump(target, database, out.stream);
    return out.bytes();
  };

  beforeAll(async () => {
    server = await startRedis();
    target = targetOf(server);
    redis = new Redis(server.url);
    const batch = redis.pipeline();
    for (let i = 0; i < 3000; i++) batch.set(`shop:item:${i}`, `value ${i} é 🙂`);
    batch.set(Buffer.from('shop:bin\x00\xff', 'latin1'), Buffer.from([0, 1, 2, 255]));
    batch.hset('shop:hash', { a: '1', b: '2' });
    batch.rpush('shop:list', 'x', 'y', 'z');
    batch.sadd('shop:set', 'p', 'q');
    batch.zadd('shop:zset', 1, 'one', 2, 'two');
    batch.xadd('shop:stream', '1-1', 'field', 'value');
    batch.set('shop:session', 'expires', 'PX', HOUR_MS);
    batch.hset('shop:cart', { n: '3' });
    batch.pexpire('shop:cart', 2 * HOUR_MS);
    batch.set('other:item:1', 'not ours');
    batch.set('shopping:item:1', 'not ours either'); // shares the letters, not the prefix
    await batch.exec();
  }, 120_000);
  afterAll(async () => {
    redis?.disconnect();
    await server?.destroy();
  }, 120_000);

  it('dumps every key of the prefix and restores them in place exactly, with their TTLs', async () => {
    const before = await contents('shop');
    const dumped = await dump('shop');
    expect(dumped.includes(Buffer.from('not ours'))).toBe(false);

    await redis.set('shop:item:1', 'changed');
    await redis.del('shop:item:2', 'shop:hash', 'shop:session');
    await redis.persist('shop:cart');
    await redis.rpush('shop:list', 'more');
    // Keys the backup does not have: they must be gone after the restore.
    await redis.set('shop:later', 'written after the backup');
    await redis.set('shop:item:99999', 'x', 'PX', HOUR_MS);

    await sut.restore(target, 'shop', Readable.from([dumped]));

    expect(await contents('shop')).toEqual(before);
    expect(await redis.pttl('shop:item:1')).toBe(-1);
    expect(await redis.pttl('shop:session')).toBeGreaterThan(HOUR_MS - 60_000);
    expect(await redis.pttl('shop:session')).toBeLessThanOrEqual(HOUR_MS);
    expect(await redis.pttl('shop:cart')).toBeGreaterThan(2 * HOUR_MS - 60_000);
    expect(await redis.get('other:item:1')).toBe('not ours');
    expect(await redis.exists('shop:later', 'shop:item:99999')).toBe(0);
    expect(await redis.get('shopping:item:1')).toBe('not ours either');
  }, 30_000);

  it('is half done when cut (not atomic), and the same file again finishes it', async () => {
    const before = await contents('shop');
    const dumped = await dump('shop');
    await redis.set('shop:later', 'written after the backup');
    expect(sut.atomicRestore).toBe(false);
    // Fails only once read half-way: after the prefix was emptied and records were restored.
    let offset = 0;
    const half = Math.floor(dumped.length / 2);
    const cut = new Readable({
      read() {
        if (offset >= half)
          return this.destroy(new Error('Backup file chunk 9 fails authentication'));
        this.push(dumped.subarray(offset, (offset = Math.min(half, offset + 16_384))));
      },
    });
    await expect(sut.restore(target, 'shop', cut)).rejects.toThrow('fails authentication');
    const halfDone = await contents('shop');
    expect(halfDone.length).toBeGreaterThan(0);
    expect(halfDone.length).toBeLessThan(before.length);
    expect(await redis.exists('shop:later')).toBe(0);

    await sut.restore(target, 'shop', Readable.from([dumped]));
    expect(await contents('shop')).toEqual(before);
  }, 30_000);

  it('restores into another prefix (a clone), leaving the source and the others alone', async () => {
    const dumped = await dump('shop');
    await sut.restore(target, 'shop_copy', Readable.from([dumped]));

    expect(await contents('shop_copy')).toEqual(await contents('shop'));
    const shopKeys = (await redis.keys('shop:*')).length;
    expect(shopKeys).toBe(3008);
    expect(await redis.dbsize()).toBe(2 * shopKeys + 2);
    expect(await redis.pttl('shop_copy:session')).toBeGreaterThan(HOUR_MS - 60_000);
    await redis.set('shop_copy:item:1', 'clone only');
    expect(await redis.get('shop:item:1')).toBe('value 1 é 🙂');
  }, 30_000);

  it('refuses a stream that is cut, foreign or failing', async () => {
    const dumped = await dump('shop');
    await expect(
      sut.restore(target, 'shop', Readable.from([dumped.subarray(0, dumped.length - 5)])),
    ).rejects.toThrow(/ends in the middle of a record/);
    const noEnd = Buffer.concat([
      encodeHeader(),
      encodeRecord({ key: Buffer.from('a'), ttlMs: 0, value: Buffer.alloc(3) }),
    ]);
    await expect(sut.restore(target, 'x', Readable.from([noEnd]))).rejects.toThrow(
      BackupCorruptError,
    );
    const wrongCount = Buffer.concat([encodeHeader(), encodeEnd(2)]);
    await expect(sut.restore(target, 'x', Readable.from([wrongCount]))).rejects.toThrow(
      /has 0 records, not 2/,
    );
    const before = await contents('shop');
    await expect(
      sut.restore(target, 'shop', Readable.from([Buffer.from('PGDMP....')])),
    ).rejects.toThrow(/Not a Redis backup stream/);
    expect(await contents('shop')).toEqual(before); // refused before anything was deleted
    await expect(sut.restore(target, 'x', failingAfter(dumped.subarray(0, 100)))).rejects.toThrow(
      'fails authentication',
    );
    const out = collector();
    await expect(
      sut.dump({ ...target, adminPassword: 'wrong' }, 'shop', out.stream),
    ).rejects.toThrow(/WRONGPASS/);
    expect(out.stream.destroyed).toBe(true);
  }, 30_000);

  describe('edge cases found by mutation testing', () => {
    /** The connections the server has besides the test's own, once the closed ones are gone. */
    const otherClients = async (): Promise<number> => {
      const count = async () =>
        ((await redis.client('LIST')) as string).trim().split('\n').length - 1;
      for (let i = 0; i < 40 && (await count()) > 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      return count();
    };

    it('dumps a database without keys to an empty backup, whose restore empties the prefix', async () => {
      const empty = await dump('nothing');
      expect(empty).toEqual(Buffer.concat([encodeHeader(), encodeEnd(0)]));
      await redis.set('nothing:later', 'written after the backup');
      await sut.restore(target, 'nothing', Readable.from([empty]));
      expect(await redis.exists('nothing:later')).toBe(0);
    });

    it('leaves out a key gone between SCAN and DUMP', async () => {
      // SCAN is not a snapshot: staged by a SCAN that names a key the server no longer has.
      type Scan = (...args: unknown[]) => Promise<[Buffer, Buffer[]]>;
      const proto = Redis.prototype as unknown as { scanBuffer: Scan };
      const scan = proto.scanBuffer;
      const spy = jest.spyOn(proto, 'scanBuffer').mockImplementation(async function (
        this: Redis,
        ...args: unknown[]
      ) {
        const [next, keys] = await scan.apply(this, args);
        return [next, [...keys, Buffer.from('shop:gone')]];
      });
      let dumped: Buffer;
      try {
        dumped = await dump('shop');
      } finally {
        spy.mockRestore();
      }
      await sut.restore(target, 'ghost', Readable.from([dumped]));
      expect(await redis.exists('ghost:gone')).toBe(0);
      expect((await redis.keys('ghost:*')).length).toBe((await redis.keys('shop:*')).length);
      await redis.del(await redis.keys('ghost:*'));
    });

    it('refuses a record whose value is not a DUMP payload', async () => {
      const bad = Buffer.concat([
        encodeHeader(),
        encodeRecord({ key: Buffer.from('k'), ttlMs: 0, value: Buffer.from('not a payload') }),
        encodeEnd(1),
      ]);
      await expect(sut.restore(target, 'bad', Readable.from([bad]))).rejects.toThrow(
        /DUMP payload/,
      );
    });

    it('closes its connection after a dump, a restore and a failed restore', async () => {
      await dump('shop');
      await sut.restore(target, 'nothing', Readable.from([await dump('nothing')]));
      await expect(
        sut.restore(target, 'nothing', Readable.from([Buffer.from('PGDMP....')])),
      ).rejects.toThrow(/Not a Redis backup stream/);
      expect(await otherClients()).toBe(0);
    });

    it('refuses a name that is not a database name, with that reason', async () => {
      await expect(sut.restore(target, 'a*b', Readable.from([]))).rejects.toThrow(
        /Not a database name/,
      );
      await expect(sut.dump(target, 'a*b', collector().stream)).rejects.toThrow(
        /Not a database name/,
      );
    });

    it('says "connection refused" for a server that is not there', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const out = collector();
      await expect(
        sut.dump({ ...target, addresses: [`127.0.0.1:${port}`] }, 'shop', out.stream),
      ).rejects.toThrow(/ECONNREFUSED/);
    });

    it('waits for a slow output, and stops when the output is closed', async () => {
      const whole = await dump('shop');
      const parts: Buffer[] = [];
      const slow = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _encoding, done) {
          parts.push(chunk);
          setImmediate(done);
        },
      });
      const listeners = () => ['drain', 'close', 'error'].map((e) => slow.listenerCount(e));
      const before = listeners();
      await sut.dump(target, 'shop', slow);
      expect(listeners()).toEqual(before); // each wait removes its listeners
      await finished(slow);
      expect(Buffer.concat(parts).length).toBe(whole.length);

      const stuck = new Writable({ highWaterMark: 1024, write: () => undefined });
      stuck.on('error', () => undefined);
      setTimeout(() => stuck.destroy(), 50);
      await expect(sut.dump(target, 'shop', stuck)).rejects.toThrow(
        'The dump output was closed before the end',
      );

      const failing = new Writable({ highWaterMark: 1024, write: () => undefined });
      failing.on('error', () => undefined);
      setTimeout(() => failing.destroy(new Error('the upload failed')), 50);
      await expect(sut.dump(target, 'shop', failing)).rejects.toThrow('the upload failed');

      const closed = collector().stream;
      closed.destroy();
      await expect(sut.dump(target, 'shop', closed)).rejects.toThrow(
        'The dump output was closed before the end',
      );
    });
  });
});
