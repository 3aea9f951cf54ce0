import { Injectable } from '@nestjs/common';
import { PlacementRepository } from './placement.repository';

/** How full an infra is, and where a new database would go (see PlacementRepository). */
@Injectable()
export class PlacementService {
  constructor(private readonly placement: PlacementRepository) {}

  /** Slots taken on the infra (databases on it and moving to it), for its detail. */
  placed(infraId: number): Promise<number> {
    return this.placement.countPlaced(infraId);
  }

  /** The infra a new database of this plan and environment goes to; null if all are full. */
  chooseInfra(planId: number, environmentId: number): Promise<number | null> {
    return this.placement.chooseInfra(planId, environmentId);
  }
}
