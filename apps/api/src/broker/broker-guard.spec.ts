import { AuthenticatedUser } from '@dbaas/auth';
import { ExecutionContext } from '@nestjs/common';
import { BrokerError } from './broker-errors';
import { BrokerGuard, isSupportedVersion } from './broker.guard';
import { describeOrigin } from './originating-identity';

/** A request as the guard sees it, and the headers it sets on the reply. */
function call(user: AuthenticatedUser | undefined, headers: Record<string, string>) {
  const sent: Record<string, string> = {};
  const reply = { header: (name: string, value: string) => (sent[name] = value) };
  const context = {
    switchToHttp: () => ({ getRequest: () => ({ user, headers }), getResponse: () => reply }),
  } as unknown as ExecutionContext;
  return { context, sent };
}

const user = (role: AuthenticatedUser['role']): AuthenticatedUser => ({
  id: 3,
  username: role,
  role,
  teamIds: [1],
});

describe('BrokerGuard', () => {
  const guard = new BrokerGuard();
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error instanceof BrokerError ? error.status : error;
    }
    return 'passed';
  };

  it('lets broker and dba users in with API version 2.13 or later', () => {
    for (const role of ['broker', 'dba'] as const) {
      for (const version of ['2.13', '2.17', ' 2.99 ']) {
        const { context } = call(user(role), { 'x-broker-api-version': version });
        expect(guard.canActivate(context)).toBe(true);
      }
    }
  });

  it('refuses a regular user (403) before looking at the version', () => {
    const { context } = call(user('regular'), { 'x-broker-api-version': '2.17' });
    expect(refusal(() => guard.canActivate(context))).toBe(403);
    expect(refusal(() => guard.canActivate(call(undefined, {}).context))).toBe(403);
  });

  it('refuses a missing, older or malformed version (412)', () => {
    for (const version of [undefined, '2.12', '1.99', '3.0', '2', 'v2.14']) {
      const headers: Record<string, string> = version ? { 'x-broker-api-version': version } : {};
      expect(refusal(() => guard.canActivate(call(user('broker'), headers).context))).toBe(412);
    }
    expect(isSupportedVersion('2.13')).toBe(true);
    expect(isSupportedVersion('2.12')).toBe(false);
  });

  it('echoes the request identity, even on a refusal, but not an oversized one', () => {
    const ok = call(user('regular'), { 'x-broker-api-request-identity': 'req-1' });
    refusal(() => guard.canActivate(ok.context));
    expect(ok.sent).toEqual({ 'X-Broker-API-Request-Identity': 'req-1' });

    const big = call(user('broker'), {
      'x-broker-api-version': '2.17',
      'x-broker-api-request-identity': 'x'.repeat(501),
    });
    guard.canActivate(big.context);
    expect(big.sent).toEqual({});
  });
});

describe('describeOrigin', () => {
  it('records the originating identity decoded, or as sent when it does not decode', () => {
    const value = Buffer.from(JSON.stringify({ user_id: 'alice' })).toString('base64');
    expect(describeOrigin(`cloudfoundry ${value}`)).toBe('cloudfoundry {"user_id":"alice"}');
    expect(describeOrigin('kubernetes not-base64-json')).toBe('kubernetes not-base64-json');
    expect(describeOrigin('  ')).toBeUndefined();
    expect(describeOrigin(undefined)).toBeUndefined();
  });
});
