import { UsedSizeCache } from './used-size.cache';

describe('UsedSizeCache', () => {
  let now = 0;
  const sut = () => new UsedSizeCache(30_000, () => now);

  it('measures once per period and serves the cached value in between', async () => {
    const cache = sut();
    const measure = jest.fn().mockResolvedValueOnce(100).mockResolvedValueOnce(200);
    expect(await cache.get(1, measure)).toBe(100);
    now += 10_000;
    expect(await cache.get(1, measure)).toBe(100);
    now += 30_000;
    expect(await cache.get(1, measure)).toBe(200);
    expect(measure).toHaveBeenCalledTimes(2);
  });

  it('peeks at the cached size, null for a database never measured or forgotten', async () => {
    const cache = sut();
    expect(cache.peek(7)).toBeNull();
    await cache.get(7, () => Promise.resolve(100));
    expect(cache.peek(7)).toBe(100);

    cache.forget(7);
    expect(cache.peek(7)).toBeNull();
    const measure = jest.fn(() => Promise.resolve(150));
    expect(await cache.get(7, measure)).toBe(150);
    expect(measure).toHaveBeenCalledTimes(1);
  });

  it('says a size is worth refreshing once it is a whole period old, or never measured', async () => {
    const cache = sut();
    expect(cache.isStale(8)).toBe(true);
    await cache.get(8, () => Promise.resolve(100));
    expect(cache.isStale(8)).toBe(false);
    now += 29_999;
    expect(cache.isStale(8)).toBe(false);
    now += 1;
    expect(cache.isStale(8)).toBe(true);
  });

  it('answers null when the engine cannot say, and the last value after a failure', async () => {
    const cache = sut();
    expect(await cache.get(2, () => Promise.reject(new Error('down')))).toBeNull();
    now += 30_000;
    await cache.get(2, () => Promise.resolve(50));
    now += 60_000;
    expect(await cache.get(2, () => Promise.reject(new Error('down')))).toBe(50);
    expect(cache.peek(2)).toBe(50);
  });

  it('remembers a failure for the period instead of asking the engine on every call', async () => {
    const cache = sut();
    const failing = jest.fn(() => Promise.reject(new Error('missing')));
    expect(await cache.get(4, failing)).toBeNull();
    now += 10_000;
    expect(await cache.get(4, failing)).toBeNull();
    expect(cache.isStale(4)).toBe(false);
    expect(failing).toHaveBeenCalledTimes(1);
    now += 30_000;
    expect(cache.isStale(4)).toBe(true);
    expect(await cache.get(4, () => Promise.resolve(7))).toBe(7);
  });

  it('caches nothing with a period of 0', async () => {
    const cache = new UsedSizeCache(0, () => now);
    const failing = jest.fn(() => Promise.reject(new Error('down')));
    await cache.get(5, failing);
    await cache.get(5, failing);
    expect(failing).toHaveBeenCalledTimes(2);
  });

  it('shares one measurement between concurrent callers', async () => {
    const cache = sut();
    const measure = jest.fn(
      () => new Promise<number>((resolve) => setTimeout(() => resolve(9), 10)),
    );
    const answers = await Promise.all([
      cache.get(3, measure),
      cache.get(3, measure),
      cache.get(3, measure),
    ]);
    expect(answers).toEqual([9, 9, 9]);
    expect(measure).toHaveBeenCalledTimes(1);
  });
});
