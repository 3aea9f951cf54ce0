import { Injectable } from '@nestjs/common';
import { infraPoolKey } from './common/infra-pools';
import { InfraAccess } from './infra-access.service';

/** What one look at an infra found: does it answer its admin, and is it protecting its tenants. */
export interface InfraHealth {
  reachable: boolean;
  version: string | null;
  /** Why it is unreachable (a provider error: never a secret), or null. */
  error: Error | null;
  /** The provider's `securityWarnings`; empty when nothing was found or the checks failed. */
  warnings: string[];
}

export class ProbeTimeout extends Error {
  override readonly name = 'ProbeTimeout';
  constructor(ms: number) {
    super(`no answer within ${ms / 1000} s`);
  }
}

/** The promise, or a ProbeTimeout after `ms`; the timer never outlives the race. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
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
  /** A probe of the same infra (same address and admin login) younger than this is reused. */
  maxAgeMs: number;
  /** Past this, the infra counts as unreachable for this probe. */
  timeoutMs: number;
}

/**
 * Pings an infra with its admin login and runs its engine's security checks. Results are
 * kept per infra for the caller's `maxAgeMs`, keyed by address and admin login too, so an
 * edited infra is probed afresh; concurrent callers share one probe in flight.
 */
@Injectable()
export class InfraProbe {
  private readonly cache = new Map<
    number,
    { key: string; at: number; health: Promise<InfraHealth> }
  >();

  constructor(private readonly infras: InfraAccess) {}

  async probe(infraId: number, options: ProbeOptions): Promise<InfraHealth> {
    let connected;
    try {
      connected = await within(this.infras.connect(infraId), options.timeoutMs);
    } catch (error) {
      return unreachable(error);
    }
    const key = infraPoolKey(connected.target);
    const now = Date.now();
    const cached = this.cache.get(infraId);
    if (cached && cached.key === key && now - cached.at < options.maxAgeMs) return cached.health;
    const health = within(this.look(connected), options.timeoutMs).catch(unreachable);
    this.cache.set(infraId, { key, at: now, health });
    if (this.cache.size > 1000) this.cache.clear();
    return health;
  }

  /**
   * Ping and security checks side by side. The checks run even when the admin login fails:
   * a MySQL root without a password or PostgreSQL trust authentication is worth knowing
   * while the stored admin password is wrong. A check that fails hides nothing from the ping.
   */
  private async look({
    provider,
    target,
  }: Awaited<ReturnType<InfraAccess['connect']>>): Promise<InfraHealth> {
    const [ping, warnings] = await Promise.all([
      provider.ping(target).then(
        ({ version }) => ({ version, error: null }),
        (error: Error) => ({ version: null, error }),
      ),
      provider.securityWarnings(target).catch(() => [] as string[]),
    ]);
    return { reachable: ping.error === null, ...ping, warnings };
  }
}

function unreachable(error: unknown): InfraHealth {
  const cause = error instanceof Error ? error : new Error(String(error));
  return { reachable: false, version: null, error: cause, warnings: [] };
}
