const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * A storage key is folder names and a file name joined by `/`, each of letters, digits,
 * `.`, `_` and `-`, none starting with a dot: it cannot leave the backup folder, hide a
 * file, or collide with a partial write (those start with a dot).
 */
export function assertStorageKey(key: string): string {
  const segments = key.split('/');
  if (key.length > 512 || !segments.every((segment) => SEGMENT.test(segment))) {
    throw new Error(`Not a backup storage key: ${JSON.stringify(key)}`);
  }
  return key;
}

/** A folder prefix for list(): '' or segments each followed by `/`. */
export function assertStoragePrefix(prefix: string): string {
  if (prefix !== '') {
    if (!prefix.endsWith('/'))
      throw new Error(`Not a backup storage prefix: ${JSON.stringify(prefix)}`);
    assertStorageKey(prefix.slice(0, -1));
  }
  return prefix;
}
