import { assertIdentifier } from './identifiers';

describe('assertIdentifier', () => {
  it('returns a name that keeps the rule and the length limit', () => {
    expect(assertIdentifier('mysql', 'user', 'a', 1)).toBe('a');
    expect(assertIdentifier('mysql', 'user', 'shop_2', 6)).toBe('shop_2');
  });

  it('refuses a name one character over the limit', () => {
    expect(() => assertIdentifier('mysql', 'user', 'shop_22', 6)).toThrow(
      'mysql: invalid user name "shop_22" (must match /^[a-z][a-z0-9_]*$/ and be at most 6 characters)',
    );
  });

  it.each([
    ['a leading digit', '1shop'],
    ['a leading underscore', '_shop'],
    ['an upper-case letter', 'Shop'],
    ['a quote', "shop'"],
    ['a space at the end', 'shop '],
    ['a newline at the end', 'shop\n'],
    ['the empty string', ''],
  ])('refuses %s', (_what, name) => {
    expect(() => assertIdentifier('postgresql', 'database', name, 63)).toThrow(
      /^postgresql: invalid database name /,
    );
  });

  it('refuses a value that is not a string, naming it in a short form', () => {
    expect(() => assertIdentifier('redis', 'database', 42 as unknown as string, 63)).toThrow(
      'redis: invalid database name "42"',
    );
    const long = 'x'.repeat(200) + 'Y';
    expect(() => assertIdentifier('redis', 'user', long, 63)).toThrow(
      `invalid user name "${'x'.repeat(80)}" (`,
    );
  });
});
