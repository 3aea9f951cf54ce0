/** What the size-limit check does with one database (SPEC §10); null: nothing. */
export type SizeLimitAction = 'restrict_writes' | 'allow_writes' | null;

/**
 * The decision, from the plan's limit (0 = none), the measured size (null when the engine
 * could not say) and whether the database is marked over its limit now. Over means
 * strictly more than the limit; back under means at most the limit. A database marked over
 * whose plan no longer has a limit gets its writes back; an unmeasured one stays as it is.
 */
export function sizeLimitAction(
  limitInBytes: number,
  usedInBytes: number | null,
  overSizeLimit: boolean,
): SizeLimitAction {
  if (limitInBytes <= 0) return overSizeLimit ? 'allow_writes' : null;
  if (usedInBytes === null) return null;
  const over = usedInBytes > limitInBytes;
  if (over === overSizeLimit) return null;
  return over ? 'restrict_writes' : 'allow_writes';
}
