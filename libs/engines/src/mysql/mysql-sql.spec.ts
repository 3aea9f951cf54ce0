import { account, escapeLike, grantDatabase, quoteIdent, quoteLiteral } from './mysql-sql';

describe('MySQL quoting', () => {
  it('quotes an identifier in backticks, an inner backtick doubled', () => {
    expect(quoteIdent('shop')).toBe('`shop`');
    expect(quoteIdent('a`b`c')).toBe('`a``b``c`');
  });

  it('quotes a literal with the driver escaping', () => {
    expect(quoteLiteral("it's \\ here")).toBe("'it\\'s \\\\ here'");
  });

  it('names an account at host %', () => {
    expect(account("o'k")).toBe("'o\\'k'@'%'");
  });

  it('escapes every LIKE wildcard and the escape character itself, everywhere in the name', () => {
    expect(escapeLike('a_b%c\\d_e')).toBe('a\\_b\\%c\\\\d\\_e');
    expect(escapeLike('plain')).toBe('plain');
  });

  it('grants on the escaped name, so `a_b` cannot cover `axb`', () => {
    expect(grantDatabase('a_b')).toBe('`a\\_b`');
    expect(grantDatabase('shop')).toBe('`shop`');
  });
});
