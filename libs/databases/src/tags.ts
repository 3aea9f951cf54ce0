/** The most tags a database carries. */
export const MAX_TAGS = 20;

/** One tag: lower case letters, digits and `_ . : -`, starting with a letter or digit, 1 to 63 characters. */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9_.:-]{0,62}$/;

/** What is wrong with a list of tags (one sentence each), empty when it is fine. */
export function tagProblems(tags: readonly unknown[]): string[] {
  const problems: string[] = [];
  if (tags.length > MAX_TAGS) problems.push(`at most ${MAX_TAGS} tags (got ${tags.length})`);
  for (const tag of tags) {
    if (typeof tag !== 'string' || !TAG_PATTERN.test(tag))
      problems.push(`${JSON.stringify(tag)} is not a tag (${TAG_PATTERN.source})`);
  }
  return problems;
}

/** The tags without duplicates, in the order first given. */
export function uniqueTags(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}
