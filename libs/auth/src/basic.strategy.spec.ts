import { TooManyRequestsError } from '@dbaas/core';
import { AuthService } from './auth.service';
import { AuthenticatedUser } from './authenticated-user';
import { BasicStrategy } from './basic.strategy';

const admin: AuthenticatedUser = { id: 1, username: 'admin', role: 'dba', teamIds: [] };
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

/** What passport hears back from the strategy for one request. */
type Outcome = { success: AuthenticatedUser } | { fail: unknown[] } | { error: unknown };

describe('BasicStrategy', () => {
  let auth: jest.Mocked<Pick<AuthService, 'verify'>>;
  let sut: BasicStrategy;

  beforeEach(() => {
    auth = {
      verify: jest.fn(async (username, password) =>
        username === 'admin' && password === 'se:cr:et' ? admin : null,
      ),
    };
    sut = new BasicStrategy(auth as unknown as AuthService);
  });

  /** Runs the strategy as passport does: on an object that has passport's verbs. */
  const authenticate = (authorization?: string, ip = '10.0.0.1') =>
    new Promise<Outcome>((resolve) => {
      const run = Object.assign(Object.create(sut) as BasicStrategy, {
        success: (user: AuthenticatedUser) => resolve({ success: user }),
        fail: (...args: unknown[]) => resolve({ fail: args }),
        error: (error: unknown) => resolve({ error }),
      });
      run.authenticate({ ip, headers: authorization === undefined ? {} : { authorization } });
    });

  it('splits the credentials at the first colon only: a password may hold colons', async () => {
    await expect(authenticate(basic('admin:se:cr:et'))).resolves.toEqual({ success: admin });
    expect(auth.verify).toHaveBeenCalledWith('admin', 'se:cr:et');
  });

  it('reads the scheme in any case', async () => {
    await expect(
      authenticate(`bAsIc ${Buffer.from('admin:se:cr:et').toString('base64')}`),
    ).resolves.toEqual({ success: admin });
  });

  it('fails a wrong password with the challenge', async () => {
    await expect(authenticate(basic('admin:se'))).resolves.toEqual({
      fail: ['Basic realm="dbaas"', 401],
    });
  });

  it.each([
    ['no header', undefined, ['Basic realm="dbaas"', 401]],
    ['another scheme', 'Bearer abc', ['Basic realm="dbaas"', 401]],
    [
      'a scheme that only contains Basic',
      `NotBasic ${Buffer.from('admin:se:cr:et').toString('base64')}`,
      ['Basic realm="dbaas"', 401],
    ],
    [
      'a scheme that only starts with Basic',
      `Basicx ${Buffer.from('admin:se:cr:et').toString('base64')}`,
      ['Basic realm="dbaas"', 401],
    ],
    ['a scheme without credentials', 'Basic', [400]],
    ['credentials without a colon', basic('nocolon'), [400]],
    ['an empty password', basic('admin:'), ['Basic realm="dbaas"', 401]],
    ['an empty user', basic(':secret'), ['Basic realm="dbaas"', 401]],
  ])('fails %s without asking the store', async (_case, header, args) => {
    await expect(authenticate(header)).resolves.toEqual({ fail: args });
    expect(auth.verify).not.toHaveBeenCalled();
  });

  it('answers 429 after five failed logins of one user from one address, even with the right password', async () => {
    for (let i = 0; i < 5; i++) await authenticate(basic('admin:wrong'));

    const outcome = await authenticate(basic('admin:se:cr:et'));

    expect(outcome).toEqual({ error: expect.any(TooManyRequestsError) });
    await expect(authenticate(basic('admin:se:cr:et'), '10.0.0.2')).resolves.toEqual({
      success: admin,
    });
  });

  it('tells how long to wait in the 429', async () => {
    for (let i = 0; i < 5; i++) await authenticate(basic('admin:wrong'));

    const outcome = (await authenticate(basic('admin:se:cr:et'))) as {
      error: TooManyRequestsError;
    };

    expect(outcome.error.retryAfterSeconds).toBe(60);
    expect(auth.verify).toHaveBeenCalledTimes(5);
  });

  it('clears the failure count after a successful login', async () => {
    for (let i = 0; i < 4; i++) await authenticate(basic('admin:wrong'));
    await authenticate(basic('admin:se:cr:et'));
    for (let i = 0; i < 4; i++) await authenticate(basic('admin:wrong'));

    await expect(authenticate(basic('admin:se:cr:et'))).resolves.toEqual({ success: admin });
  });

  it('throttles requests without an address together', async () => {
    const run = (ip: string | undefined, credentials = 'admin:se:cr:et') =>
      new Promise<Outcome>((resolve) => {
        const strategy = Object.assign(Object.create(sut) as BasicStrategy, {
          success: (user: AuthenticatedUser) => resolve({ success: user }),
          fail: (...args: unknown[]) => resolve({ fail: args }),
          error: (error: unknown) => resolve({ error }),
        });
        strategy.authenticate({ ip, headers: { authorization: basic(credentials) } });
      });

    for (let i = 0; i < 5; i++) await run(undefined, 'admin:wrong');

    await expect(run(undefined)).resolves.toEqual({ error: expect.any(TooManyRequestsError) });
    await expect(run('10.0.0.1')).resolves.toEqual({ success: admin });
  });

  it('passes a failing store on as an error, not as a wrong password', async () => {
    const down = new Error('store down');
    auth.verify.mockRejectedValueOnce(down);

    await expect(authenticate(basic('admin:se:cr:et'))).resolves.toEqual({ error: down });
  });

  it.each([
    ['a user name of 200 characters', 'u'.repeat(200), 'pw', true],
    ['a user name of 201 characters', 'u'.repeat(201), 'pw', false],
    ['a password of 1000 characters', 'admin', 'p'.repeat(1000), true],
    ['a password of 1001 characters', 'admin', 'p'.repeat(1001), false],
    ['a NUL in the user name', 'ad\u0000min', 'pw', false],
    ['a NUL in the password', 'admin', 'p\u0000w', false],
  ])(
    'asks the store about %s only when it is within the limits',
    async (_case, username, password, asked) => {
      await expect(authenticate(basic(`${username}:${password}`))).resolves.toEqual({
        fail: ['Basic realm="dbaas"', 401],
      });
      expect(auth.verify).toHaveBeenCalledTimes(asked ? 1 : 0);
    },
  );
});
