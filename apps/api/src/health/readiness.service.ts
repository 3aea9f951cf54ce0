import { EngineTypeName, failureReason, InfraAccess } from '@dbaas/engines';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InfraReadinessDto, ReadinessDto } from './health.dto';

/** Probes answer fast: a store or engine slower than this counts as down for this probe. */
export const PROBE_TIMEOUT_MS = 2_000;

class ProbeTimeout extends Error {}

/** The promise, or a ProbeTimeout after `ms`; the timer never outlives the race. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ProbeTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface InfraRow {
  id: number;
  name: string;
  engine: EngineTypeName;
}

/** What the health routes check: the metadata store, and every infra through its provider. */
@Injectable()
export class ReadinessService {
  constructor(
    @InjectDataSource() private readonly store: DataSource,
    private readonly infras: InfraAccess,
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

  async readiness(): Promise<ReadinessDto> {
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
    const infras = await Promise.all(rows.map((row) => this.probe(row)));
    return { status: 'ok', store: 'up', infras };
  }

  private async probe(row: InfraRow): Promise<InfraReadinessDto> {
    const base = { id: row.id, name: row.name, engine: row.engine };
    try {
      const { version } = await within(
        this.infras.connect(row.id).then(({ provider, target }) => provider.ping(target)),
        PROBE_TIMEOUT_MS,
      );
      return { ...base, reachable: true, version, error: null };
    } catch (error) {
      const reason = error instanceof ProbeTimeout ? 'timeout' : failureReason(error);
      return { ...base, reachable: false, version: null, error: reason };
    }
  }
}
