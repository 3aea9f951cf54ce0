import { SecretBox, ValidationFailedError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { CatalogCrud } from './catalog-crud';
import { EngineRepository } from './engine.repository';
import { EnvironmentRepository } from './environment.repository';
import { Infra, InfraRepository, InfraWrite } from './infra.repository';
import { PlanRepository } from './plan.repository';

export interface InfraInput {
  name: string;
  engine: number;
  plan: number;
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
  ) {
    super(infras);
  }

  async create(input: InfraInput): Promise<Infra> {
    await this.checkReferences(input);
    const { engine, plan, environment, adminPassword, ...rest } = input;
    return this.insert({
      ...rest,
      engineId: engine,
      planId: plan,
      environmentId: environment,
      adminPasswordEncrypted: this.secrets.encrypt(adminPassword),
    });
  }

  async update(id: number, input: Partial<InfraInput>): Promise<Infra> {
    const current = await this.get(id);
    await this.checkReferences({
      engine: input.engine ?? current.engineId,
      plan: input.plan ?? current.planId,
      environment: input.environment ?? current.environmentId,
    });
    const { engine, plan, environment, adminPassword, ...rest } = input;
    return this.patch(id, {
      ...rest,
      engineId: engine,
      planId: plan,
      environmentId: environment,
      adminPasswordEncrypted:
        adminPassword === undefined ? undefined : this.secrets.encrypt(adminPassword),
    });
  }

  /** An infra hosts databases of its plan, so the plan must run its engine and be offered in its environment. */
  private async checkReferences(refs: { engine: number; plan: number; environment: number }) {
    await this.engines.requireExisting('engine', [refs.engine]);
    await this.environments.requireExisting('environment', [refs.environment]);
    const plan = await this.plans.findById(refs.plan);
    if (!plan) throw new ValidationFailedError({ plan: [`no plan with id ${refs.plan}`] });
    if (plan.engineId !== refs.engine) {
      throw new ValidationFailedError({ plan: ['the plan belongs to another engine'] });
    }
    if (!plan.environmentIds.includes(refs.environment)) {
      throw new ValidationFailedError({
        environment: ['the plan is not offered in this environment'],
      });
    }
  }
}
