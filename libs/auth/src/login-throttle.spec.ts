import { LOCKOUT_MS, LoginThrottle, MAX_FAILURES } from './login-throttle';

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
