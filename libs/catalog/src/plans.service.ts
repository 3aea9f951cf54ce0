import {
  EngineEntity,
  EnvironmentEntity,
  PlanEntity,
  requireAll,
  requireOne,
  translateStoreErrors,
} from '@dbaas/persistence';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CatalogCrud } from './catalog-crud';

export interface PlanInput {
  name: string;
  description?: string;
  engine: number;
  environments: number[];
  /** 0 (the default) = unlimited. */
  sizeLimitInBytes?: number;
  isActive?: boolean;
  isDefault?: boolean;
}

@Injectable()
export class PlansService extends CatalogCrud<PlanEntity> {
  protected readonly resource = 'plan';
  protected override readonly relations = { environments: true, engine: { engineType: true } };

  constructor(
    @InjectRepository(PlanEntity) repo: Repository<PlanEntity>,
    @InjectRepository(EngineEntity) private readonly engines: Repository<EngineEntity>,
    @InjectRepository(EnvironmentEntity)
    private readonly environments: Repository<EnvironmentEntity>,
  ) {
    super(repo);
  }

  async create(input: PlanInput): Promise<PlanEntity> {
    await requireOne(this.engines, 'engine', 'engine', input.engine);
    const environments = await requireAll(
      this.environments,
      'environment',
      'environments',
      input.environments,
    );
    return this.insert({
      name: input.name,
      description: input.description ?? '',
      engineId: input.engine,
      environments,
      sizeLimitInBytes: input.sizeLimitInBytes ?? 0,
      isActive: input.isActive ?? true,
      isDefault: input.isDefault ?? false,
    });
  }

  async update(id: number, input: Partial<PlanInput>): Promise<PlanEntity> {
    const { engine, environments, ...rest } = input;
    if (engine !== undefined) await requireOne(this.engines, 'engine', 'engine', engine);
    if (environments !== undefined) {
      const plan = await this.get(id);
      plan.environments = await requireAll(
        this.environments,
        'environment',
        'environments',
        environments,
      );
      await translateStoreErrors(this.resource, () => this.repo.save(plan));
    }
    return this.patch(id, { ...rest, engineId: engine });
  }

  /** Whether the plan may be used for new databases in this environment. */
  isOfferedIn(plan: PlanEntity, environmentId: number): boolean {
    return (
      plan.isActive && plan.environments.some((environment) => environment.id === environmentId)
    );
  }
}
