import { Injectable } from '@nestjs/common';
import { EngineUnavailableError } from '@dbaas/core';
import { infraPoolKey } from './common/infra-pools';
import { connectFailure } from './common/tcp-reach';
import { EngineProvider, InfraTarget } from './engine-provider';
import { ConnectedInfra, InfraAccess } from './infra-access.service';

/** What one look at an infra found: does it answer its admin, and is it protecting its tenants. */
export interface InfraHealth {
  reachable: boolean;
  version: string | null;
  /** Why it is unreachable (a provider error: never a secret), or null. */
  error: Error | null;
  /** The provider's `securityWarnings` (when asked for); empty when none were found or the checks failed. */
  warnings: string[];
}

export class ProbeTimeout extends Error {
  override readonly name = 'ProbeTimeout';
  constructor(ms: number) {
    super(`no answer within ${ms / 1000} s`);
  }
}

/** The promise, or a ProbeTimeout after `ms`; the timer never outlives the race. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ProbeTimeout(ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ProbeOptions {
  /** A ping of the same infra (same address and admin login) younger than this is reused. */
  maxAgeMs: number;
  /** Past this, the infra counts as unreachable for this probe. */
  timeoutMs: number;
  /**
   * Run the security checks too, reusing their answer for `maxAgeMs`. Without it `warnings`
   * is empty and the engine sees no check (PostgreSQL's is a failed admin login, which a
   * server logs: a load balancer's polling must not cause one every few seconds).
   */
  warnings?: { maxAgeMs: number };
}

interface Cached<T> {
  key: string;
  at: number;
  answer: Promise<T>;
}

type Ping = Pick<InfraHealth, 'reachable' | 'version' | 'error'>;

/**
 * Pings an infra with its admin login and, when asked, runs its engine's security checks.
 * Answers are kept per infra for the caller's `maxAgeMs`, keyed by address and admin login
 * too, so an edited infra is probed afresh; concurrent callers share one probe in flight.
 */
@Injectable()
export class InfraProbe {
  private readonly pings = new Map<number, Cached<Ping>>();
  private readonly checks = new Map<number, Cached<string[]>>();

  constructor(private readonly infras: InfraAccess) {}

  async probe(infraId: number, options: ProbeOptions): Promise<InfraHealth> {
    let connected: ConnectedInfra;
    try {
      connected = await within(this.infras.connect(infraId), options.timeoutMs);
    } catch (error) {
      return { ...unreachable(error), warnings: [] };
    }
    const { provider, target } = connected;
    const key = infraPoolKey(target);
    const ping = reuse(this.pings, infraId, key, options.maxAgeMs, () =>
      pingWithCause(provider, target, options.timeoutMs).then(
        ({ version }): Ping => ({ reachable: true, version, error: null }),
        unreachable,
      ),
    );
    // The checks run even when the admin login fails: a MySQL root without a password or
    // PostgreSQL trust authentication is worth knowing while the stored password is wrong.
    // A check that fails or takes too long hides nothing from the ping.
    const warnings = options.warnings
      ? reuse(this.checks, infraId, key, options.warnings.maxAgeMs, () =>
          within(provider.securityWarnings(target), options.timeoutMs).catch(() => []),
        )
      : Promise.resolve([]);
    const [health, found] = await Promise.all([ping, warnings]);
    return { ...health, warnings: found };
  }
}

const NEVER = new Promise<never>(() => undefined);

/**
 * The provider's ping, with the real cause when the server cannot be reached. Some drivers
 * keep retrying a refused connection until their own timeout (MongoDB's server selection
 * takes 3 s), others say only "Connection is closed" (ioredis): a plain TCP connect to the
 * same addresses, in parallel, tells "connection refused" (or an unknown host) at once.
 */
async function pingWithCause(
  provider: Pick<EngineProvider, 'ping'>,
  target: InfraTarget,
  timeoutMs: number,
): Promise<{ version: string }> {
  const failure = connectFailure(target.addresses, timeoutMs);
  const refused = failure.then((error) => (error ? Promise.reject(error) : NEVER));
  try {
    return await within(Promise.race([provider.ping(target), refused]), timeoutMs);
  } catch (error) {
    if (error instanceof EngineUnavailableError || error instanceof ProbeTimeout) {
      const cause = await failure;
      if (cause) throw cause;
    }
    throw error;
  } finally {
    refused.catch(() => undefined);
  }
}

/** The cached answer when fresh enough for this caller, else a new one (and kept). */
function reuse<T>(
  cache: Map<number, Cached<T>>,
  infraId: number,
  key: string,
  maxAgeMs: number,
  make: () => Promise<T>,
): Promise<T> {
  const now = Date.now();
  const cached = cache.get(infraId);
  if (cached && cached.key === key && now - cached.at < maxAgeMs) return cached.answer;
  const answer = make();
  if (cache.size >= 1000) cache.clear();
  cache.set(infraId, { key, at: now, answer });
  return answer;
}

function unreachable(error: unknown): Ping {
  const cause = error instanceof Error ? error : new Error(String(error));
  return { reachable: false, version: null, error: cause };
}
