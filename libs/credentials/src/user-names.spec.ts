import { checkUserName, defaultUserName } from './user-names';

describe('user names', () => {
  it('normalizes like database names', () => {
    expect(checkUserName('U MyUsr1', 63, 'postgres')).toEqual({ name: 'u_myusr1', problem: null });
  });

  it.each(['postgres', 'root', 'default', 'pg_monitor', 'dbadmin'])(
    'refuses the reserved or admin name %s',
    (name) => {
      expect(checkUserName(name, 63, 'dbadmin').problem).toContain('reserved');
    },
  );

  it('respects the engine limit', () => {
    expect(checkUserName('a'.repeat(33), 32, 'root').problem).toContain('at most 32');
  });

  it('cuts the default user name to the limit without a trailing underscore', () => {
    expect(defaultUserName('test_database2', 63)).toBe('u_test_database2');
    expect(defaultUserName('abcdefghij_klmnop', 13)).toBe('u_abcdefghij');
  });
});
