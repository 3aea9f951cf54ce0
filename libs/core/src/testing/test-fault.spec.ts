import { testFault, TestFaultError } from './test-fault';

describe('testFault (test-only fault point)', () => {
  const saved = process.env.DBAAS_TEST_FAULT;
  let kill: jest.SpyInstance;

  beforeEach(() => {
    // Stands in for the signal: throwing ends testFault before it could block the thread.
    kill = jest.spyOn(process, 'kill').mockImplementation(() => {
      throw new Error('killed');
    });
  });

  afterEach(() => {
    kill.mockRestore();
    if (saved === undefined) delete process.env.DBAAS_TEST_FAULT;
    else process.env.DBAAS_TEST_FAULT = saved;
  });

  it('does nothing when DBAAS_TEST_FAULT is unset', () => {
    delete process.env.DBAAS_TEST_FAULT;
    testFault('password-stored', 'orders');
    expect(kill).not.toHaveBeenCalled();
  });

  it.each([
    ['another step', 'access-revoked@orders'],
    ['another database', 'password-stored@orders_2'],
    ['a database name that only starts the same', 'password-stored@order'],
    ['no database', 'password-stored'],
    ['empty', ''],
  ])('does nothing when armed for %s', (_why, armed) => {
    process.env.DBAAS_TEST_FAULT = armed;
    testFault('password-stored', 'orders');
    expect(kill).not.toHaveBeenCalled();
  });

  it('throws at exactly fail:<step>@<database>, without a signal', () => {
    process.env.DBAAS_TEST_FAULT = 'fail:move-copying@orders';
    testFault('move-copying', 'orders_2');
    expect(() => testFault('move-copying', 'orders')).toThrow(TestFaultError);
    expect(kill).not.toHaveBeenCalled();
  });

  it('sends this process SIGKILL at exactly <step>@<database>', () => {
    process.env.DBAAS_TEST_FAULT = 'password-stored@orders';
    expect(() => testFault('password-stored', 'orders')).toThrow('killed');
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGKILL');
  });
});
