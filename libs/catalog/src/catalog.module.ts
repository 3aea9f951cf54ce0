import { Module } from '@nestjs/common';
import { InfrasService } from './infras.service';
import { PlacementService } from './placement.service';
import { PlansService } from './plans.service';
import { EngineTypesService, EnginesService, EnvironmentsService } from './simple-catalog.services';

const SERVICES = [
  EngineTypesService,
  EnginesService,
  EnvironmentsService,
  PlansService,
  InfrasService,
  PlacementService,
];

@Module({ providers: SERVICES, exports: SERVICES })
export class CatalogModule {}
