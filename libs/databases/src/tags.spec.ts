import { MAX_TAGS, tagProblems, uniqueTags } from './tags';

describe('tags', () => {
  it('accepts lower-case tags of letters, digits and _ . : -, starting with a letter or digit, up to 63 characters', () => {
    expect(tagProblems(['shop', 'env:prod', 'v1.2', 'a_b-c', '0', 'x'.repeat(63)])).toEqual([]);
    expect(tagProblems([])).toEqual([]);
  });

  it('names each tag that breaks the rule', () => {
    const bad = ['Shop', '-x', '.x', '', 'x'.repeat(64), 'a b', 'é', 'a/b'];
    const problems = tagProblems(bad);
    expect(problems).toHaveLength(bad.length);
    expect(problems[0]).toContain('"Shop"');
    expect(tagProblems([7 as unknown as string])).toHaveLength(1);
  });

  it(`refuses more than ${MAX_TAGS} tags, not ${MAX_TAGS}`, () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
    expect(tagProblems(tags(MAX_TAGS))).toEqual([]);
    expect(tagProblems(tags(MAX_TAGS + 1))).toEqual([`at most ${MAX_TAGS} tags (got 21)`]);
  });

  it('drops duplicates, keeping the first order', () => {
    expect(uniqueTags(['b', 'a', 'b', 'c', 'a'])).toEqual(['b', 'a', 'c']);
  });
});
