import { SecretBox } from '@dbaas/core';
import {
  EngineEntity,
  EnvironmentEntity,
  InfraEntity,
  PlanEntity,
  requireOne,
} from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ValidationFailedError } from '@dbaas/core';
import { Repository } from 'typeorm';
import { CatalogCrud } from './catalog-crud';

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
export class InfrasService extends CatalogCrud<InfraEntity> {
  protected readonly resource = 'infra';
  protected override readonly relations = { engine: { engineType: true } };

  constructor(
    @InjectRepository(InfraEntity) repo: Repository<InfraEntity>,
    @InjectRepository(EngineEntity) private readonly engines: Repository<EngineEntity>,
    @InjectRepository(PlanEntity) private readonly plans: Repository<PlanEntity>,
    @InjectRepository(EnvironmentEntity)
    private readonly environments: Repository<EnvironmentEntity>,
    private readonly secrets: SecretBox,
  ) {
    super(repo);
  }

  async create(input: InfraInput): Promise<InfraEntity> {
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

  async update(id: number, input: Partial<InfraInput>): Promise<InfraEntity> {
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

  /** The decrypted admin password, for the engine layer only. */
  async adminPassword(id: number): Promise<string> {
    const row = await this.repo
      .createQueryBuilder('infra')
      .addSelect('infra.adminPasswordEncrypted')
      .where('infra.id = :id', { id })
      .getOne();
    if (!row) throw new ValidationFailedError({ infra: [`no infra with id ${id}`] });
    return this.secrets.decrypt(row.adminPasswordEncrypted);
  }

  /** An infra hosts databases of its plan, so the plan must run its engine and be offered in its environment. */
  private async checkReferences(refs: { engine: number; plan: number; environment: number }) {
    await requireOne(this.engines, 'engine', 'engine', refs.engine);
    await requireOne(this.environments, 'environment', 'environment', refs.environment);
    const plan = await this.plans.findOne({
      where: { id: refs.plan },
      relations: { environments: true },
    });
    if (!plan) throw new ValidationFailedError({ plan: [`no plan with id ${refs.plan}`] });
    if (plan.engineId !== refs.engine) {
      throw new ValidationFailedError({ plan: ['the plan belongs to another engine'] });
    }
    if (!plan.environments.some((e) => e.id === refs.environment)) {
      throw new ValidationFailedError({
        environment: ['the plan is not offered in this environment'],
      });
    }
  }
}
