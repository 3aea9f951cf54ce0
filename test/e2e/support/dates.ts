/** Today's date in UTC as `YYYY-MM-DD`, the format of quarantine_dt. */
export function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * Runs `action` and returns its result with the UTC days it may have been dated with,
 * taken before and after it: one day, or two when it ran across midnight (a test that
 * asserts a single `today` would flake then).
 */
export async function dated<T>(action: () => Promise<T>): Promise<[T, string[]]> {
  const before = utcToday();
  const result = await action();
  return [result, [...new Set([before, utcToday()])]];
}
