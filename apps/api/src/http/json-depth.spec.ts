import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('nestedDeeperThan', () => {
  it('counts objects and arrays, up to the limit and one past it', () => {
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(nestedDeeperThan('{"a":[{"b":{}}]}', 4)).toBe(false);
    expect(nestedDeeperThan('{"a":[{"b":{}}]}', 3)).toBe(true);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(nestedDeeperThan(JSON.stringify({ a: '[[[[{{{{' }), 1)).toBe(false);
    expect(nestedDeeperThan(JSON.stringify({ a: 'say \\"[[[[\\" and \\\\' }), 1)).toBe(false);
    expect(nestedDeeperThan(`{"a\\"[[":[[1]]}`, 2)).toBe(true);
  });

  it('counts siblings once: width is not depth', () => {
    expect(
      nestedDeeperThan(JSON.stringify(Array.from({ length: 10_000 }, () => ({ a: [1] }))), 3),
    ).toBe(false);
  });

  it('answers for a body of a hundred thousand levels without recursion', () => {
    expect(nestedDeeperThan(nested(100_000))).toBe(true);
  });
});
