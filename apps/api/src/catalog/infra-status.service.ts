import { PlacementService } from '@dbaas/catalog';
import { InfraAccess } from '@dbaas/engines';
import { InfraEntity } from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { DetailExtras } from './crud-controller.factory';

export interface InfraStatus {
  status: { reachable: boolean; version: string | null; error: string | null };
  databases: { placed: number; capacity: number; free: number };
}

/** The live part of `GET /api/infra/{id}/`: can we reach it, and how full is it. */
@Injectable()
export class InfraStatusService implements DetailExtras<InfraEntity> {
  constructor(
    private readonly infras: InfraAccess,
    private readonly placement: PlacementService,
  ) {}

  async extras(infra: InfraEntity): Promise<InfraStatus> {
    const placed = await this.placement.placed(infra.id);
    const databases = {
      placed,
      capacity: infra.capacity,
      free: Math.max(0, infra.capacity - placed),
    };
    try {
      const { provider, target } = await this.infras.connect(infra.id);
      const { version } = await provider.ping(target);
      return { status: { reachable: true, version, error: null }, databases };
    } catch (error) {
      return {
        status: { reachable: false, version: null, error: (error as Error).message },
        databases,
      };
    }
  }
}
