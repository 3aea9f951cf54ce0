/**
 * Exit codes scripts can rely on, one per class of error (listed in `dbaas help`).
 */
export const EXIT = {
  ok: 0,
  /** The command ran and failed: a server error (5xx), an unreachable API or engine, a failed task. */
  failed: 1,
  /** Bad arguments: unknown command or option, missing argument. */
  usage: 2,
  /** Not logged in, wrong password (401), not allowed (403), too many failed logins (429). */
  auth: 3,
  /** The resource does not exist or is not visible to this user (404). */
  notFound: 4,
  /** The API refused the request: validation (400), conflict (409) and other 4xx. */
  rejected: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error with the exit code of its class; the message is printed as `dbaas: <message>`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/** Bad arguments or input: exit code 2, like commander's own usage errors. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** The command ran but its outcome is a failure the caller must see (exit code 1). */
export class FailedError extends CliError {
  constructor(message: string) {
    super(message, EXIT.failed);
  }
}

/** No login saved or given in the environment (exit code 3). */
export class NotLoggedInError extends CliError {
  constructor(message: string) {
    super(message, EXIT.auth);
  }
}

/** The exit code for an HTTP error status. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403 || status === 429) return EXIT.auth;
  if (status === 404 || status === 410) return EXIT.notFound;
  if (status >= 400 && status < 500) return EXIT.rejected;
  return EXIT.failed;
}
