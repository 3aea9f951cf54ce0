import { SecretBox, ValidationFailedError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { CatalogCrud } from './catalog-crud';
import { EngineLimitRules } from './engine-limit-rules';
import { EngineRepository } from './engine.repository';
import { EnvironmentRepository } from './environment.repository';
import { Infra, InfraRepository, InfraWrite } from './infra.repository';
import { PlanRepository } from './plan.repository';

export interface InfraInput {
  name: string;
  engine: number;
  /** The plans it serves: at least one, all of its engine. */
  plans: number[];
  environment: number;
  addresses: string[];
  adminUser: string;
  adminPassword: string;
  capacity: number;
}

/** Engine servers. The admin password is sealed with SecretBox and never read back out. */
@Injectable()
export class InfrasService extends CatalogCrud<Infra, InfraWrite> {
  constructor(
    infras: InfraRepository,
    private readonly engines: EngineRepository,
    private readonly plans: PlanRepository,
    private readonly environments: EnvironmentRepository,
    private readonly secrets: SecretBox,
    private readonly limitRules: EngineLimitRules,
  ) {
    super(infras);
  }

  async create(input: InfraInput): Promise<Infra> {
    const { engine, plans, environment, adminPassword, ...rest } = input;
    const planIds = unique(plans);
    await this.checkReferences({ engine, plans: planIds, environment });
    return this.insert({
      ...rest,
      engineId: engine,
      planIds,
      environmentId: environment,
      adminPasswordEncrypted: this.secrets.encrypt(adminPassword),
    });
  }

  async update(id: number, input: Partial<InfraInput>): Promise<Infra> {
    const current = await this.get(id);
    const { engine, plans, environment, adminPassword, ...rest } = input;
    const planIds = plans && unique(plans);
    await this.checkReferences({
      engine: engine ?? current.engineId,
      plans: planIds ?? current.planIds,
      environment: environment ?? current.environmentId,
    });
    return this.patch(id, {
      ...rest,
      engineId: engine,
      planIds,
      environmentId: environment,
      adminPasswordEncrypted:
        adminPassword === undefined ? undefined : this.secrets.encrypt(adminPassword),
    });
  }

  /**
   * An infra hosts databases of its plans, so each plan must run its engine (one the engine
   * can enforce the limits of: EngineLimitRules) and be offered in its environment.
   */
  private async checkReferences(refs: { engine: number; plans: number[]; environment: number }) {
    await this.engines.requireExisting('engine', [refs.engine]);
    await this.environments.requireExisting('environment', [refs.environment]);
    if (!refs.plans.length) throw new ValidationFailedError({ plans: ['at least one plan'] });
    const engineType = await this.engines.typeNameOf(refs.engine);
    for (const planId of refs.plans) {
      const plan = await this.plans.findById(planId);
      if (!plan) throw new ValidationFailedError({ plans: [`no plan with id ${planId}`] });
      if (plan.engineId !== refs.engine) {
        throw new ValidationFailedError({
          plans: [`plan ${plan.name} belongs to another engine than the infra's`],
        });
      }
      if (!plan.environmentIds.includes(refs.environment)) {
        throw new ValidationFailedError({
          environment: [`plan ${plan.name} is not offered in this environment`],
        });
      }
      const problem = engineType && this.limitRules.problem(engineType, plan);
      if (problem) throw new ValidationFailedError({ plans: [`plan ${plan.name}: ${problem}`] });
    }
  }
}

function unique(ids: number[]): number[] {
  return [...new Set(ids)];
}
