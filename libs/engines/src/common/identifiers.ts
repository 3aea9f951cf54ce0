/** The dbaas name rule; providers check it again before a name reaches any DDL. */
export const IDENTIFIER_PATTERN = /^[a-z][a-z0-9_]*$/;

/**
 * Throws a plain Error (a programming error: names are validated by the API long before)
 * when `name` breaks the rule or the engine's length limit.
 */
export function assertIdentifier(
  engine: string,
  kind: 'database' | 'user',
  name: string,
  maxLength: number,
): string {
  if (typeof name !== 'string' || !IDENTIFIER_PATTERN.test(name) || name.length > maxLength) {
    throw new Error(
      `${engine}: invalid ${kind} name ${JSON.stringify(String(name).slice(0, 80))} ` +
        `(must match ${IDENTIFIER_PATTERN} and be at most ${maxLength} characters)`,
    );
  }
  return name;
}
