import { Module } from '@nestjs/common';
import { InfrasService } from './infras.service';
import { PlacementService } from './placement.service';
import { PlansService } from './plans.service';
import {
  EngineTypesService,
  EnginesService,
  EnvironmentsService,
  ProjectsService,
} from './simple-catalog.services';

const SERVICES = [
  EngineTypesService,
  EnginesService,
  EnvironmentsService,
  PlansService,
  InfrasService,
  ProjectsService,
  PlacementService,
];

@Module({ providers: SERVICES, exports: SERVICES })
export class CatalogModule {}
