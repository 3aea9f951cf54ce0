import { TeamsService, UsersService } from '@dbaas/auth';
import {
  EngineTypesService,
  EnginesService,
  EnvironmentsService,
  InfrasService,
  PlansService,
} from '@dbaas/catalog';
import { ProjectsService } from '@dbaas/databases';
import {
  CreateTeamDto,
  CreateUserDto,
  presentTeam,
  presentUser,
  teamInput,
  TeamDto,
  UpdateTeamDto,
  UpdateUserDto,
  userInput,
  UserDto,
} from '../users/user.dto';
import { crudController } from './crud-controller.factory';
import { InfraStatusService } from './infra-status.service';
import {
  CreateEngineDto,
  EngineDto,
  engineInput,
  presentEngine,
  UpdateEngineDto,
} from './engine.dto';
import { CreateInfraDto, InfraDto, infraInput, presentInfra, UpdateInfraDto } from './infra.dto';
import {
  CreateEngineTypeDto,
  CreateEnvironmentDto,
  CreateProjectDto,
  EngineTypeDto,
  EnvironmentDto,
  presentEngineType,
  presentEnvironment,
  presentProject,
  ProjectDto,
  UpdateEngineTypeDto,
  UpdateEnvironmentDto,
  UpdateProjectDto,
} from './named.dto';
import { CreatePlanDto, PlanDto, planInput, presentPlan, UpdatePlanDto } from './plan.dto';

/**
 * The create DTOs validated every required field, so the shared DTO → input mappers
 * (written for partial updates) give a complete input on create.
 */
const complete = <T>(input: Partial<T>) => input as T;
const same = <T>(dto: T) => dto;

/** The catalog, users and teams: every one the same five routes (see crudController). */
export const CATALOG_CONTROLLERS = [
  crudController({
    name: 'engine_type',
    title: 'engine type',
    service: EngineTypesService,
    writers: 'dba',
    createDto: CreateEngineTypeDto,
    updateDto: UpdateEngineTypeDto,
    responseDto: EngineTypeDto,
    present: presentEngineType,
    createInput: same,
    updateInput: same,
  }),
  crudController({
    name: 'engine',
    title: 'engine',
    service: EnginesService,
    writers: 'dba',
    createDto: CreateEngineDto,
    updateDto: UpdateEngineDto,
    responseDto: EngineDto,
    present: presentEngine,
    createInput: (dto) => complete(engineInput(dto)),
    updateInput: engineInput,
  }),
  crudController({
    name: 'environment',
    title: 'environment',
    service: EnvironmentsService,
    writers: 'dba',
    createDto: CreateEnvironmentDto,
    updateDto: UpdateEnvironmentDto,
    responseDto: EnvironmentDto,
    present: presentEnvironment,
    createInput: same,
    updateInput: same,
  }),
  crudController({
    name: 'plan',
    title: 'plan',
    service: PlansService,
    writers: 'dba',
    createDto: CreatePlanDto,
    updateDto: UpdatePlanDto,
    responseDto: PlanDto,
    present: presentPlan,
    createInput: (dto) => complete(planInput(dto)),
    updateInput: planInput,
  }),
  crudController({
    name: 'infra',
    title: 'infra',
    service: InfrasService,
    writers: 'dba',
    createDto: CreateInfraDto,
    updateDto: UpdateInfraDto,
    responseDto: InfraDto,
    present: presentInfra,
    createInput: (dto) => complete(infraInput(dto)),
    updateInput: infraInput,
    detailExtras: InfraStatusService,
  }),
  crudController({
    name: 'project',
    title: 'project',
    service: ProjectsService,
    writers: 'any',
    createDto: CreateProjectDto,
    updateDto: UpdateProjectDto,
    responseDto: ProjectDto,
    present: presentProject,
    createInput: same,
    updateInput: same,
  }),
  crudController({
    name: 'team',
    title: 'team',
    service: TeamsService,
    writers: 'dba',
    createDto: CreateTeamDto,
    updateDto: UpdateTeamDto,
    responseDto: TeamDto,
    present: presentTeam,
    createInput: (dto) => complete({ users: [], ...teamInput(dto) }),
    updateInput: teamInput,
  }),
  crudController({
    name: 'user',
    title: 'user',
    service: UsersService,
    writers: 'dba',
    createDto: CreateUserDto,
    updateDto: UpdateUserDto,
    responseDto: UserDto,
    present: presentUser,
    createInput: (dto) => complete({ teams: [], ...userInput(dto) }),
    updateInput: userInput,
  }),
];
