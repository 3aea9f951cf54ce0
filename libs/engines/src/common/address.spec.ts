import { parseAddress } from './address';

describe('parseAddress', () => {
  it('splits host:port', () => {
    expect(parseAddress('db1.internal:6543', 5432)).toEqual({ host: 'db1.internal', port: 6543 });
  });

  it('takes the default port when none is given', () => {
    expect(parseAddress('db1.internal', 5432)).toEqual({ host: 'db1.internal', port: 5432 });
  });

  it('reads an IPv6 address in brackets, with or without a port', () => {
    expect(parseAddress('[::1]:3307', 3306)).toEqual({ host: '::1', port: 3307 });
    expect(parseAddress('[fe80::2]', 3306)).toEqual({ host: 'fe80::2', port: 3306 });
  });

  it('leaves a bare IPv6 address (several colons) whole, with the default port', () => {
    expect(parseAddress('::1', 6379)).toEqual({ host: '::1', port: 6379 });
    expect(parseAddress('fe80::2:1', 6379)).toEqual({ host: 'fe80::2:1', port: 6379 });
  });

  it('does not split on a leading colon', () => {
    expect(parseAddress(':5432', 1)).toEqual({ host: ':5432', port: 1 });
  });

  it('does not take a bracketed address with trailing text as IPv6', () => {
    expect(parseAddress('x[::1]', 7)).toEqual({ host: 'x[::1]', port: 7 });
    expect(parseAddress('[::1]x', 7)).toEqual({ host: '[::1]x', port: 7 });
  });
});
