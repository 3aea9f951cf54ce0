import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import {
  groupRoles,
  passwordSql,
  quoteIdent,
  quoteLiteral,
  writesBlockedRoles,
} from './postgresql-sql';

describe('PostgreSQL quoting and passwords', () => {
  it('quotes identifiers and literals', () => {
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(quoteLiteral("o'k")).toBe("'o''k'");
  });

  it('names the three group roles of a database with a colon no user name can have', () => {
    expect(groupRoles('shop')).toEqual({
      owner: 'shop:owner',
      'read-write': 'shop:rw',
      'read-only': 'shop:ro',
    });
  });

  it('names the roles of a database over its size limit apart from its groups and from any user name', () => {
    const blocked = writesBlockedRoles('shop');
    expect(blocked).toEqual({ owner: 'shop:rdt', 'read-write': 'shop:rd' });
    // The provider creates and drops these beside the group roles: no name may be shared.
    const all = [...Object.values(groupRoles('shop')), ...Object.values(blocked)];
    expect(new Set(all).size).toBe(5);
  });

  it('sends an ASCII password as a SCRAM-SHA-256 verifier that checks against that password', () => {
    const password = 'S3cret pass~word!';
    const sql = passwordSql(password);
    expect(sql).not.toContain(password);
    const match =
      /^'SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)'$/.exec(sql);
    expect(match).not.toBeNull();
    const [, iterations, salt, storedKey, serverKey] = match!;
    expect(iterations).toBe('4096');
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
    // What a server does with the verifier: recompute both keys from the password.
    const salted = pbkdf2Sync(password, Buffer.from(salt, 'base64'), 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(storedKey).toBe(createHash('sha256').update(clientKey).digest('base64'));
    expect(serverKey).toBe(createHmac('sha256', salted).update('Server Key').digest('base64'));
  });

  it('uses a fresh salt each time', () => {
    expect(passwordSql('same-password')).not.toBe(passwordSql('same-password'));
  });

  it('sends a non-ASCII password as a plain literal (the server hashes it with SASLprep)', () => {
    expect(passwordSql('pässwörd')).toBe("'pässwörd'");
    expect(passwordSql('tab\there')).toBe("'tab\there'");
    expect(passwordSql('')).toMatch(/^'SCRAM-SHA-256\$4096:/);
  });
});
