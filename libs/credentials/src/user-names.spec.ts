import { checkUserName, defaultUserName, UserNameRules } from './user-names';

const engine = (userNameMaxLength = 63): UserNameRules => ({
  userNameMaxLength,
  reservedUserNames: ['postgres', 'public'],
  reservedUserPrefixes: ['pg_'],
});

describe('user names', () => {
  it('normalizes like database names', () => {
    expect(checkUserName('U MyUsr1', engine(), 'postgres')).toEqual({
      name: 'u_myusr1',
      problem: null,
    });
  });

  it.each(['postgres', 'public', 'pg_monitor', 'dbadmin', 'DBAdmin'])(
    "refuses the engine's reserved name or the admin's: %s",
    (name) => {
      expect(checkUserName(name, engine(), 'dbadmin').problem).toBe(
        `"${name.toLowerCase()}" is reserved by the engine`,
      );
    },
  );

  it("takes a name another engine reserves, and one that only contains the engine's prefix", () => {
    expect(checkUserName('root', engine(), 'dbadmin').problem).toBeNull();
    expect(checkUserName('app_pg_reader', engine(), 'dbadmin').problem).toBeNull();
  });

  it('respects the engine limit', () => {
    expect(checkUserName('a'.repeat(33), engine(32), 'root').problem).toContain('at most 32');
    expect(checkUserName('a'.repeat(32), engine(32), 'root').problem).toBeNull();
  });

  it('cuts the default user name to the limit without a trailing underscore', () => {
    expect(defaultUserName('test_database2', 63)).toBe('u_test_database2');
  });

  it('cuts a long default name to the limit with a tag of the whole name, so long names with a common start differ', () => {
    const a = defaultUserName('analytics_service_production_eu_west_1', 32);
    const b = defaultUserName('analytics_service_production_eu_west_2', 32);
    expect(a).toMatch(/^u_analytics_service_produ_[0-9a-f]{6}$/);
    expect(a).toHaveLength(32);
    expect(b).not.toBe(a);
    expect(defaultUserName('analytics_service_production_eu_west_1', 32)).toBe(a);
    expect(checkUserName(a, engine(32), 'root')).toEqual({ name: a, problem: null });
    // A cut that ends on "_" does not leave "__" before the tag.
    expect(defaultUserName('abcde_fghij_klmnop', 14)).toMatch(/^u_abcde_[0-9a-f]{6}$/);
  });

  it("refuses the admin's name whatever the case it is configured in", () => {
    expect(checkUserName('dbadmin', engine(), 'DBAdmin').problem).toBe(
      '"dbadmin" is reserved by the engine',
    );
  });

  it('refuses a name starting with any of the reserved prefixes', () => {
    const rules = { ...engine(), reservedUserPrefixes: ['pg_', 'mariadb_'] };
    expect(checkUserName('pg_read', rules, 'root').problem).toContain('reserved');
    expect(checkUserName('mariadb_sys', rules, 'root').problem).toContain('reserved');
  });

  it('keeps a default name exactly at the limit whole', () => {
    expect(defaultUserName('abcd', 6)).toBe('u_abcd');
  });

  it('drops every underscore the cut leaves before the tag', () => {
    // The cut keeps "u_abcde__" (9 characters): both underscores go.
    expect(defaultUserName('abcde__fghijklmnop', 16)).toMatch(/^u_abcde_[0-9a-f]{6}$/);
    // A cut ending on a single "_" ("u_abcde_").
    expect(defaultUserName('abcde_fghijklmnop', 15)).toMatch(/^u_abcde_[0-9a-f]{6}$/);
  });
});
