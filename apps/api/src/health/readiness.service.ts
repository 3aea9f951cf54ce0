import { ConnectionFailed, failureReason, InfraProbe, ProbeTimeout, within } from '@dbaas/engines';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InfraReadinessDto, ReadinessDto, ReadinessError } from './health.dto';

/** Probes answer fast: a store or engine slower than this counts as down for this probe. */
export const PROBE_TIMEOUT_MS = 2_000;
/**
 * An infra's probe is reused this long: a load balancer polling every second must not
 * open an engine login (and run the security checks) per infra per poll.
 */
export const PROBE_CACHE_MS = 5_000;
/** The security checks (asked for by a dba only) change rarely and cost a login: kept longer. */
export const WARNINGS_CACHE_MS = 60_000;

interface InfraRow {
  id: number;
  name: string;
  engine: string;
}

/** What the health routes check: the metadata store, and every infra through its provider. */
@Injectable()
export class ReadinessService {
  constructor(
    @InjectDataSource() private readonly store: DataSource,
    private readonly probes: InfraProbe,
  ) {}

  /** For `/health`, as it always was: no time limit of its own (the pool's connect timeout). */
  async storeAnswers(): Promise<boolean> {
    try {
      await this.store.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** `withWarnings`: each infra's security warnings too (a dba is asking). */
  async readiness(options: { withWarnings: boolean }): Promise<ReadinessDto> {
    let rows: InfraRow[];
    try {
      rows = await within(
        this.store.query<InfraRow[]>(
          `SELECT i.id, i.name, et.name AS engine
             FROM infra i
             JOIN engine e ON e.id = i.engine_id
             JOIN engine_type et ON et.id = e.engine_type_id
            ORDER BY i.id`,
        ),
        PROBE_TIMEOUT_MS,
      );
    } catch {
      return { status: 'unavailable', store: 'down', infras: [] };
    }
    const infras = await Promise.all(rows.map((row) => this.probe(row, options.withWarnings)));
    return { status: 'ok', store: 'up', infras };
  }

  private async probe(row: InfraRow, withWarnings: boolean): Promise<InfraReadinessDto> {
    const health = await this.probes.probe(row.id, {
      maxAgeMs: PROBE_CACHE_MS,
      timeoutMs: PROBE_TIMEOUT_MS,
      warnings: withWarnings ? { maxAgeMs: WARNINGS_CACHE_MS } : undefined,
    });
    const error = readinessError(health.error);
    return {
      id: row.id,
      name: row.name,
      engine: row.engine,
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
