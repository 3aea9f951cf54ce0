import { AuthenticatedUser } from '@dbaas/auth';
import { Infra, PlacementService } from '@dbaas/catalog';
import { InfraProbe } from '@dbaas/engines';
import { Injectable } from '@nestjs/common';
import { DetailExtras } from './crud-controller.factory';

/** A detail read waits this long for the engine at most (the API answers within seconds). */
const DETAIL_PROBE_TIMEOUT_MS = 4_500;

export interface InfraStatus {
  status?: { reachable: boolean; version: string | null; error: string | null };
  warnings?: string[];
  databases: { placed: number; capacity: number; free: number };
}

/**
 * The live part of `GET /api/infra/{id}/`: how full it is, and for a dba only, whether it
 * answers and how it leaves its tenants unprotected. Other users' reads never reach the
 * engine, and never see its errors (they name addresses).
 */
@Injectable()
export class InfraStatusService implements DetailExtras<Infra> {
  constructor(
    private readonly probes: InfraProbe,
    private readonly placement: PlacementService,
  ) {}

  async extras(infra: Infra, viewer: AuthenticatedUser): Promise<InfraStatus> {
    const placed = await this.placement.placed(infra.id);
    const databases = {
      placed,
      capacity: infra.capacity,
      free: Math.max(0, infra.capacity - placed),
    };
    if (viewer.role !== 'dba') return { databases };
    // Fresh on every read: a dba looking at one infra wants it as it is now.
    const health = await this.probes.probe(infra.id, {
      maxAgeMs: 0,
      timeoutMs: DETAIL_PROBE_TIMEOUT_MS,
      warnings: { maxAgeMs: 0 },
    });
    return {
      status: {
        reachable: health.reachable,
        version: health.version,
        error: health.error?.message ?? null,
      },
      warnings: health.warnings,
      databases,
    };
  }
}
