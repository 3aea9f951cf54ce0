import { KeyedMutex, Semaphore } from './keyed-mutex';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('KeyedMutex', () => {
  it('runs work on one key one at a time, in arrival order', async () => {
    const sut = new KeyedMutex();
    const log: string[] = [];
    const job = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([sut.run('a', job('1')), sut.run('a', job('2')), sut.run('a', job('3'))]);
    expect(log).toEqual(['1 start', '1 end', '2 start', '2 end', '3 start', '3 end']);
  });

  it('lets different keys run at once, and reports what is held', async () => {
    const sut = new KeyedMutex();
    let release!: () => void;
    const held = sut.run('a', () => new Promise<void>((resolve) => (release = resolve)));
    await tick();
    expect(sut.isHeld('a')).toBe(true);
    expect(sut.isHeld('b')).toBe(false);
    await expect(sut.run('b', async () => 'b done')).resolves.toBe('b done');
    release();
    await held;
    expect(sut.isHeld('a')).toBe(false);
  });

  it('releases the key when the work fails', async () => {
    const sut = new KeyedMutex();
    await expect(sut.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(sut.isHeld('a')).toBe(false);
    await expect(sut.run('a', async () => 'next')).resolves.toBe('next');
  });
});

describe('Semaphore', () => {
  it('never lets more than its limit run at once', async () => {
    const sut = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const work = async () => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
    };
    await Promise.all(Array.from({ length: 7 }, () => sut.run(work)));
    expect(peak).toBe(2);
    expect(running).toBe(0);
  });

  it('frees its slot when the work fails', async () => {
    const sut = new Semaphore(1);
    await expect(sut.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(sut.run(async () => 'ran')).resolves.toBe('ran');
  });
});

describe('KeyedMutex: the key stays held while anyone queued on it', () => {
  it('is still held after the first holder leaves while a second one holds it', async () => {
    const sut = new KeyedMutex();
    const leaveFirst = await sut.enter('a');
    const second = sut.enter('a');
    leaveFirst();
    const leaveSecond = await second;
    // AdvisoryLocks.tryAcquire gives up on a held key: it must not see this key as free.
    expect(sut.isHeld('a')).toBe(true);
    leaveSecond();
    expect(sut.isHeld('a')).toBe(false);
  });
});

describe('Semaphore: full, and one place per holder', () => {
  it('is full once its limit holds a place, and not once one leaves', async () => {
    const sut = new Semaphore(2);
    expect(sut.isFull()).toBe(false);
    const leaveOne = await sut.enter();
    expect(sut.isFull()).toBe(false);
    await sut.enter();
    expect(sut.isFull()).toBe(true);
    leaveOne();
    expect(sut.isFull()).toBe(false);
  });

  it('tryEnter takes a place at once, or gives up without waiting when none is left', () => {
    const sut = new Semaphore(2);
    const leaveOne = sut.tryEnter();
    const leaveTwo = sut.tryEnter();
    expect(leaveOne).not.toBeNull();
    expect(leaveTwo).not.toBeNull();
    expect(sut.isFull()).toBe(true);
    expect(sut.tryEnter()).toBeNull();
    leaveOne?.();
    const leaveThree = sut.tryEnter();
    expect(leaveThree).not.toBeNull();
    expect(sut.tryEnter()).toBeNull();
    leaveTwo?.();
    leaveThree?.();
    expect(sut.isFull()).toBe(false);
  });

  it('a holder leaving twice gives up one place only', async () => {
    const sut = new Semaphore(1);
    const leave = await sut.enter();
    leave();
    const leaveNext = await sut.enter();
    leave(); // the first holder again: must not free the second one's place
    expect(sut.isFull()).toBe(true);
    leaveNext();
    expect(sut.isFull()).toBe(false);
  });

  it('hands a freed place to the next waiter rather than opening a new one', async () => {
    const sut = new Semaphore(1);
    const leave = await sut.enter();
    let waiterIn = false;
    const waiter = sut.enter().then((l) => ((waiterIn = true), l));
    leave();
    const leaveWaiter = await waiter;
    expect(waiterIn).toBe(true);
    expect(sut.isFull()).toBe(true);
    leaveWaiter();
    expect(sut.isFull()).toBe(false);
  });
});
