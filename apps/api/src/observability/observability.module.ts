import { CatalogModule } from '@dbaas/catalog';
import { EnginesModule } from '@dbaas/engines';
import { Module } from '@nestjs/common';
import { ReadinessService } from '../health/readiness.service';
import { StorePingRepository } from '../health/store-ping.repository';
import { MetricsController } from './metrics.controller';
import { InventoryRepository } from './inventory.repository';
import { MetricsService } from './metrics.service';

/**
 * `/metrics` and what the health probes check. The logger and the per-request hooks live
 * outside Nest's container (see app.factory.ts): they must exist before the app does.
 */
@Module({
  imports: [CatalogModule, EnginesModule],
  controllers: [MetricsController],
  providers: [MetricsService, InventoryRepository, ReadinessService, StorePingRepository],
  exports: [MetricsService, ReadinessService],
})
export class ObservabilityModule {}
