export const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;
export const NAME_MAX_LENGTH = 40;

/**
 * The seed's rule: `"test database2"` → `test_database2`. Lower-case, accents
 * transliterated, every run of other characters becomes `_`, leading/trailing `_` trimmed.
 * The caller checks the result against NAME_PATTERN and the length limit.
 */
export function normalizeName(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Why a normalized name is unacceptable, or null when it is fine. */
export function nameProblem(name: string, maxLength = NAME_MAX_LENGTH): string | null {
  if (name.length === 0) return 'must contain at least one letter or digit';
  if (!NAME_PATTERN.test(name)) return 'must start with a letter (after normalization)';
  if (name.length > maxLength) return `must be at most ${maxLength} characters`;
  return null;
}
