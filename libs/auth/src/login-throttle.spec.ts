import { FAILURE_WINDOW_MS, LOCKOUT_MS, LoginThrottle, MAX_FAILURES } from './login-throttle';

describe('LoginThrottle', () => {
  let now = 1_000_000;
  const sut = () => new LoginThrottle(() => now);

  it('throttles a user and address after too many failures, for a while', () => {
    const throttle = sut();
    for (let i = 0; i < MAX_FAILURES - 1; i++) throttle.failed('admin', '10.0.0.1');
    expect(throttle.retryAfterSeconds('admin', '10.0.0.1')).toBe(0);
    throttle.failed('admin', '10.0.0.1');
    expect(throttle.retryAfterSeconds('admin', '10.0.0.1')).toBe(LOCKOUT_MS / 1000);
    expect(throttle.retryAfterSeconds('admin', '10.0.0.2')).toBe(0);
    expect(throttle.retryAfterSeconds('user', '10.0.0.1')).toBe(0);
    now += LOCKOUT_MS + 1;
    expect(throttle.retryAfterSeconds('admin', '10.0.0.1')).toBe(0);
  });

  it('forgets failures after a success', () => {
    const throttle = sut();
    for (let i = 0; i < MAX_FAILURES - 1; i++) throttle.failed('admin', 'a');
    throttle.succeeded('admin', 'a');
    throttle.failed('admin', 'a');
    expect(throttle.retryAfterSeconds('admin', 'a')).toBe(0);
  });
});

describe('LoginThrottle windows and bounds', () => {
  let now = 1_000_000;
  const sut = () => new LoginThrottle(() => now);
  const failTimes = (throttle: LoginThrottle, times: number, user = 'admin', address = 'a') => {
    for (let i = 0; i < times; i++) throttle.failed(user, address);
  };

  it('counts failures within the window, the window edge included', () => {
    const throttle = sut();
    failTimes(throttle, MAX_FAILURES - 1);
    now += FAILURE_WINDOW_MS;
    throttle.failed('admin', 'a');
    expect(throttle.retryAfterSeconds('admin', 'a')).toBe(LOCKOUT_MS / 1000);
  });

  it('starts counting again once the first failure is older than the window', () => {
    const throttle = sut();
    failTimes(throttle, MAX_FAILURES - 1);
    now += FAILURE_WINDOW_MS + 1;
    throttle.failed('admin', 'a');
    expect(throttle.retryAfterSeconds('admin', 'a')).toBe(0);
    failTimes(throttle, MAX_FAILURES - 2);
    expect(throttle.retryAfterSeconds('admin', 'a')).toBe(0);
  });

  it('rounds the remaining wait up to whole seconds', () => {
    const throttle = sut();
    failTimes(throttle, MAX_FAILURES);
    now += LOCKOUT_MS - 1_500;
    expect(throttle.retryAfterSeconds('admin', 'a')).toBe(2);
    now += 1_499;
    expect(throttle.retryAfterSeconds('admin', 'a')).toBe(1);
    now += 1;
    expect(throttle.retryAfterSeconds('admin', 'a')).toBe(0);
  });

  it('tracks at most 50 000 pairs, dropping the one that failed least recently', () => {
    const throttle = sut();
    failTimes(throttle, MAX_FAILURES, 'first');
    failTimes(throttle, MAX_FAILURES, 'second');
    for (let i = 0; i < 49_998; i++) throttle.failed(`user${i}`, 'a');
    // `first` fails again: it becomes the most recent, `second` the least recent.
    throttle.failed('first', 'a');
    throttle.failed('one more', 'a');

    expect(throttle.retryAfterSeconds('first', 'a')).toBe(LOCKOUT_MS / 1000);
    expect(throttle.retryAfterSeconds('second', 'a')).toBe(0);
  });
});
