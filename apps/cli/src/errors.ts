/** Bad arguments or input: exit code 2, like commander's own usage errors. */
export class UsageError extends Error {}

/** The command ran but its outcome is a failure the caller must see (exit code 1). */
export class FailedError extends Error {}
