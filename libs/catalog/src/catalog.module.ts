import {
  EngineEntity,
  EngineTypeEntity,
  EnvironmentEntity,
  InfraEntity,
  PlanEntity,
} from '@dbaas/persistence';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EngineLimitRules } from './engine-limit-rules';
import { EngineRepository } from './engine.repository';
import { EngineTypeRepository } from './engine-type.repository';
import { EnvironmentRepository } from './environment.repository';
import { InfraRepository } from './infra.repository';
import { InfrasService } from './infras.service';
import { PlacementRepository } from './placement.repository';
import { PlacementService } from './placement.service';
import { PlanRepository } from './plan.repository';
import { PlansService } from './plans.service';
import { EngineTypesService, EnginesService, EnvironmentsService } from './simple-catalog.services';

const SERVICES = [
  EngineTypesService,
  EnginesService,
  EnvironmentsService,
  PlansService,
  InfrasService,
  PlacementService,
  EngineLimitRules,
];

/** Exported for the libs above that read the catalog (InfraAccess, the broker catalog). */
const REPOSITORIES = [
  EngineTypeRepository,
  EngineRepository,
  EnvironmentRepository,
  PlanRepository,
  InfraRepository,
  PlacementRepository,
];

/** The catalog: engine types, engines, environments, plans, infras and placement. */
@Module({
  imports: [
    TypeOrmModule.forFeature([
      EngineTypeEntity,
      EngineEntity,
      EnvironmentEntity,
      PlanEntity,
      InfraEntity,
    ]),
  ],
  providers: [...REPOSITORIES, ...SERVICES],
  exports: [...REPOSITORIES, ...SERVICES],
})
export class CatalogModule {}
