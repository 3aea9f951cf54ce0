import { InfraRepository, InfraSummary } from '@dbaas/catalog';
import { ConnectionFailed, failureReason, InfraProbe, ProbeTimeout, within } from '@dbaas/engines';
import { Injectable } from '@nestjs/common';
import { InfraReadinessDto, ReadinessDto, ReadinessError } from './health.dto';
import { StorePingRepository } from './store-ping.repository';

/** Probes answer fast: a store or engine slower than this counts as down for this probe. */
export const PROBE_TIMEOUT_MS = 2_000;
/**
 * An infra's probe is reused this long: a load balancer polling every second must not
 * open an engine login (and run the security checks) per infra per poll.
 */
export const PROBE_CACHE_MS = 5_000;
/** The security checks (asked for by a dba only) change rarely and cost a login: kept longer. */
export const WARNINGS_CACHE_MS = 60_000;

/** What the health routes check: the metadata store, and every infra through its provider. */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly store: StorePingRepository,
    private readonly infras: InfraRepository,
    private readonly probes: InfraProbe,
  ) {}

  /** For `/health`, as it always was: no time limit of its own (the pool's connect timeout). */
  async storeAnswers(): Promise<boolean> {
    try {
      await this.store.ping();
      return true;
    } catch {
      return false;
    }
  }

  /** `withWarnings`: each infra's security warnings too (a dba is asking). */
  async readiness(options: { withWarnings: boolean }): Promise<ReadinessDto> {
    let rows: InfraSummary[];
    try {
      rows = await within(this.infras.listSummaries(), PROBE_TIMEOUT_MS);
    } catch {
      return { status: 'unavailable', store: 'down', infras: [] };
    }
    const infras = await Promise.all(rows.map((row) => this.probe(row, options.withWarnings)));
    return { status: 'ok', store: 'up', infras };
  }

  private async probe(row: InfraSummary, withWarnings: boolean): Promise<InfraReadinessDto> {
    const health = await this.probes.probe(row.id, {
      maxAgeMs: PROBE_CACHE_MS,
      timeoutMs: PROBE_TIMEOUT_MS,
      warnings: withWarnings ? { maxAgeMs: WARNINGS_CACHE_MS } : undefined,
    });
    const error = readinessError(health.error);
    return {
      id: row.id,
      name: row.name,
      engine: row.engineType,
      reachable: health.reachable,
      version: health.version,
      error: health.reachable ? null : error,
      ...(withWarnings ? { warnings: health.warnings } : {}),
    };
  }
}

/** The cause an anonymous caller may see: a word, never an address or a driver message. */
export function readinessError(error: Error | null): ReadinessError {
  if (error instanceof ProbeTimeout) return 'timeout';
  if (error instanceof ConnectionFailed) return error.reason;
  return failureReason(error);
}
