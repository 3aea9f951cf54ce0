import { nameProblem, normalizeName } from './normalize-name';

describe('normalizeName', () => {
  it.each([
    ['test database2', 'test_database2'],
    ['  Ünïcode Dátabase--2 ', 'unicode_database_2'],
    ['a---b___c', 'a_b_c'],
    ['__x__', 'x'],
    ['MyDB', 'mydb'],
    ["Robert'); DROP TABLE students;--", 'robert_drop_table_students'],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeName(raw)).toBe(expected);
  });

  it.each([
    ['', 'at least one letter'],
    ['2fast', 'start with a letter'],
    ['x'.repeat(41), 'at most 40'],
  ])('refuses %j', (name, reason) => {
    expect(nameProblem(name)).toContain(reason);
  });

  it('accepts a normal name', () => {
    expect(nameProblem('orders_2026')).toBeNull();
  });
});
