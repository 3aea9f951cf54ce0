import { bindingUserName, canonicalJson, defaultDatabaseName } from './broker-names';

describe('broker names', () => {
  it('names the database of a UUID instance after the UUID, of any other id after its hash', () => {
    expect(defaultDatabaseName('6F1C2A3B-0000-4000-8000-00000000ABCD')).toBe(
      'osb_6f1c2a3b00004000800000000000abcd',
    );
    const hashed = defaultDatabaseName('my instance');
    expect(hashed).toMatch(/^osb_[0-9a-f]{32}$/);
    expect(defaultDatabaseName('my instance')).toBe(hashed);
    expect(defaultDatabaseName('my instance 2')).not.toBe(hashed);
  });

  it('gives each binding a stable user name within every engine limit', () => {
    expect(bindingUserName('binding-1')).toMatch(/^b_[0-9a-f]{24}$/);
    expect(bindingUserName('binding-1')).toBe(bindingUserName('binding-1'));
    expect(bindingUserName('binding-2')).not.toBe(bindingUserName('binding-1'));
  });

  it('compares parameters regardless of key order, and tells other values apart', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, 2] }, b: 1 }),
    );
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
  });
});
