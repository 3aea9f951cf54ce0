import { LoginCache } from './login-cache';

describe('LoginCache', () => {
  let now: number;
  let sut: LoginCache;
  const HASH = 'scrypt$16384$8$1$salt$hash';

  /** A scrypt stand-in that knows one right password, and counts its calls. */
  const verifier = (right = 'secret') => {
    const verify = jest.fn((password: string) => Promise.resolve(password === right));
    return { verify, call: (password: string) => () => verify(password) };
  };

  beforeEach(() => {
    now = 1_000_000;
    sut = new LoginCache({ ttlMs: 60_000, maxEntries: 3, now: () => now });
  });

  it('verifies a first login and answers the same login from the cache afterwards', async () => {
    const { verify, call } = verifier();

    await expect(sut.check('alice', 'secret', HASH, call('secret'))).resolves.toBe(true);
    await expect(sut.check('alice', 'secret', HASH, call('secret'))).resolves.toBe(true);

    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('never accepts a wrong password, even while the right one is cached', async () => {
    const { verify, call } = verifier();
    await sut.check('alice', 'secret', HASH, call('secret'));

    await expect(sut.check('alice', 'wrong', HASH, call('wrong'))).resolves.toBe(false);
    await expect(sut.check('alice', 'secret ', HASH, call('secret '))).resolves.toBe(false);
    await expect(sut.check('alice', '', HASH, call(''))).resolves.toBe(false);
    // Each wrong password paid the full verification.
    expect(verify).toHaveBeenCalledTimes(4);
  });

  it('does not remember a failed verification', async () => {
    const { verify, call } = verifier();

    await sut.check('alice', 'wrong', HASH, call('wrong'));
    await sut.check('alice', 'wrong', HASH, call('wrong'));

    expect(verify).toHaveBeenCalledTimes(2);
    expect(sut.size).toBe(0);
  });

  it("does not let one user's cached password log in another user", async () => {
    const { verify, call } = verifier();
    await sut.check('alice', 'secret', HASH, call('secret'));

    await expect(sut.check('bob', 'secret', HASH, () => Promise.resolve(false))).resolves.toBe(
      false,
    );
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('keeps field boundaries: a shifted user name and password do not collide', async () => {
    const { call } = verifier('bc');
    await sut.check('a', 'bc', HASH, call('bc'));

    await expect(sut.check('ab', 'c', HASH, () => Promise.resolve(false))).resolves.toBe(false);
  });

  it('stops accepting the old password once the stored hash changes', async () => {
    const { call } = verifier();
    await sut.check('alice', 'secret', HASH, call('secret'));

    // The password was changed elsewhere (another instance, the CLI): a new stored hash.
    const rehashed = jest.fn(() => Promise.resolve(false));
    await expect(sut.check('alice', 'secret', 'scrypt$16384$8$1$new$hash', rehashed)).resolves.toBe(
      false,
    );
    expect(rehashed).toHaveBeenCalledTimes(1);
  });

  it('verifies again after forget', async () => {
    const { verify, call } = verifier();
    await sut.check('alice', 'secret', HASH, call('secret'));

    sut.forget('alice');
    await sut.check('alice', 'secret', HASH, call('secret'));

    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('expires entries after the TTL', async () => {
    const { verify, call } = verifier();
    await sut.check('alice', 'secret', HASH, call('secret'));

    now += 59_999;
    await sut.check('alice', 'secret', HASH, call('secret'));
    expect(verify).toHaveBeenCalledTimes(1);

    now += 60_001;
    await sut.check('alice', 'secret', HASH, call('secret'));
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('stays within its size, dropping the oldest entry', async () => {
    const ok = () => Promise.resolve(true);
    for (const user of ['u1', 'u2', 'u3', 'u4']) await sut.check(user, 'pw', HASH, ok);

    expect(sut.size).toBe(3);
    const verify = jest.fn(ok);
    await sut.check('u1', 'pw', HASH, verify);
    expect(verify).toHaveBeenCalledTimes(1);
    await sut.check('u4', 'pw', HASH, verify);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('drops expired entries before evicting live ones', async () => {
    const ok = () => Promise.resolve(true);
    await sut.check('old', 'pw', HASH, ok);
    now += 30_000;
    await sut.check('u2', 'pw', HASH, ok);
    await sut.check('u3', 'pw', HASH, ok);
    now += 40_000; // `old` has expired, u2 and u3 have not

    await sut.check('u4', 'pw', HASH, ok);

    expect(sut.size).toBe(3);
    const verify = jest.fn(ok);
    for (const user of ['u2', 'u3', 'u4']) await sut.check(user, 'pw', HASH, verify);
    expect(verify).not.toHaveBeenCalled();
  });

  it('frees every expired entry when full, one expiring this very moment included, and keeps the live ones', async () => {
    const ok = () => Promise.resolve(true);
    await sut.check('old1', 'pw', HASH, ok);
    await sut.check('old2', 'pw', HASH, ok);
    now += 30_000;
    await sut.check('live', 'pw', HASH, ok);
    now += 30_000; // old1 and old2 expire exactly now, `live` in 30 s

    await sut.check('new', 'pw', HASH, ok);

    expect(sut.size).toBe(2);
    const verify = jest.fn(ok);
    for (const user of ['live', 'new']) await sut.check(user, 'pw', HASH, verify);
    expect(verify).not.toHaveBeenCalled();
  });

  it('shares one verification between concurrent identical logins', async () => {
    let release!: (ok: boolean) => void;
    const verify = jest.fn(() => new Promise<boolean>((resolve) => (release = resolve)));

    const all = Promise.all([1, 2, 3].map(() => sut.check('alice', 'secret', HASH, verify)));
    release(true);

    await expect(all).resolves.toEqual([true, true, true]);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('does not share a verification between different passwords', async () => {
    const { verify, call } = verifier();

    const results = await Promise.all([
      sut.check('alice', 'secret', HASH, call('secret')),
      sut.check('alice', 'wrong', HASH, call('wrong')),
    ]);

    expect(results).toEqual([true, false]);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('reports a failing verification and verifies again next time', async () => {
    const broken = jest.fn(() => Promise.reject(new Error('scrypt failed')));

    await expect(sut.check('alice', 'secret', HASH, broken)).rejects.toThrow('scrypt failed');
    await expect(sut.check('alice', 'secret', HASH, broken)).rejects.toThrow('scrypt failed');
    expect(broken).toHaveBeenCalledTimes(2);
  });

  it('remembers a login for 60 s and at most 10 000 users by default', async () => {
    const defaults = new LoginCache({ now: () => now });
    const verify = jest.fn(() => Promise.resolve(true));
    await defaults.check('alice', 'secret', HASH, verify);
    now += 59_999;
    await defaults.check('alice', 'secret', HASH, verify);
    expect(verify).toHaveBeenCalledTimes(1);
    now += 1;
    await defaults.check('alice', 'secret', HASH, verify);
    expect(verify).toHaveBeenCalledTimes(2);

    for (let i = 0; i < 10_000; i++) await defaults.check(`u${i}`, 'pw', HASH, verify);
    expect(defaults.size).toBe(10_000);
  });
});
