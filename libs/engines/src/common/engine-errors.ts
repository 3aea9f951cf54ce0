import { EngineUnavailableError } from '@dbaas/core';

/** Bounds shared by every provider (the API must answer 503 within seconds, never hang). */
export const CONNECT_TIMEOUT_MS = 3_000;
// Under 5 s so that a hung statement still gives the caller a 503 within 5 s.
export const COMMAND_TIMEOUT_MS = 4_000;

/** Removes every secret from a driver message (some drivers echo the failing statement). */
export function redact(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

export function unavailable(
  engine: string,
  addresses: readonly string[],
  cause: unknown,
  secrets: readonly (string | undefined)[],
): EngineUnavailableError {
  const detail = redact(cause instanceof Error ? cause.message : String(cause), secrets);
  return new EngineUnavailableError(
    `${engine} at ${addresses.join(',')} is unavailable: ${detail}`,
  );
}

/**
 * A driver error that is not about reachability (a rejected statement, a missing object):
 * re-thrown without the driver's extra fields (mysql2 attaches the full SQL, passwords
 * included) and with secrets removed from the message.
 */
export class EngineCommandError extends Error {
  override readonly name = 'EngineCommandError';
  constructor(
    readonly engine: string,
    message: string,
    readonly code?: string | number,
  ) {
    super(`${engine}: ${message}`);
  }
}

export function commandError(
  engine: string,
  cause: unknown,
  secrets: readonly (string | undefined)[],
): EngineCommandError {
  const message = redact(cause instanceof Error ? cause.message : String(cause), secrets);
  const code = (cause as { code?: string | number } | null)?.code;
  return new EngineCommandError(engine, message, code);
}

/** Socket-level failures every driver reports the same way: the server is down or unreachable. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * What a provider throws for a driver error: our own errors as they are, reachability
 * problems (per the engine's `isUnavailable`) as EngineUnavailableError, anything else as
 * EngineCommandError, always with the secrets removed.
 */
export function translateDriverError(
  engine: string,
  addresses: readonly string[],
  error: unknown,
  secrets: readonly (string | undefined)[],
  isUnavailable: (error: unknown) => boolean,
): Error {
  if (error instanceof EngineUnavailableError || error instanceof EngineCommandError) return error;
  if (isUnavailable(error)) return unavailable(engine, addresses, error, secrets);
  return commandError(engine, error, secrets);
}
