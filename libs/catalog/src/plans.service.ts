import { ValidationFailedError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { CatalogCrud } from './catalog-crud';
import { EngineLimitRules, PlanLimits } from './engine-limit-rules';
import { EngineRepository } from './engine.repository';
import { EnvironmentRepository } from './environment.repository';
import { OfferedPlan, Plan, PlanRepository, PlanWrite } from './plan.repository';

export interface PlanInput {
  name: string;
  description?: string;
  engine: number;
  environments: number[];
  /** 0 (the default) = unlimited. */
  sizeLimitInBytes?: number;
  /** UTC hour of the daily scheduled backup; null (the default) = none. */
  backupHour?: number | null;
  /** Days a scheduled or final backup is kept (default 7). */
  backupRetentionDays?: number;
  /** 0 (the default) = none. */
  maxConnections?: number;
  isActive?: boolean;
  isDefault?: boolean;
}

/** How long scheduled and final backups are kept when a plan does not say. */
export const DEFAULT_BACKUP_RETENTION_DAYS = 7;

@Injectable()
export class PlansService extends CatalogCrud<Plan, PlanWrite> {
  constructor(
    private readonly plans: PlanRepository,
    private readonly engines: EngineRepository,
    private readonly environments: EnvironmentRepository,
    private readonly limitRules: EngineLimitRules,
  ) {
    super(plans);
  }

  async create(input: PlanInput): Promise<Plan> {
    await this.engines.requireExisting('engine', [input.engine]);
    await this.environments.requireExisting('environments', input.environments);
    await this.checkLimits(input.engine, { maxConnections: input.maxConnections ?? 0 });
    return this.insert({
      name: input.name,
      description: input.description ?? '',
      engineId: input.engine,
      environmentIds: [...new Set(input.environments)],
      sizeLimitInBytes: input.sizeLimitInBytes ?? 0,
      backupHour: input.backupHour ?? null,
      backupRetentionDays: input.backupRetentionDays ?? DEFAULT_BACKUP_RETENTION_DAYS,
      maxConnections: input.maxConnections ?? 0,
      isActive: input.isActive ?? true,
      isDefault: input.isDefault ?? false,
    });
  }

  async update(id: number, input: Partial<PlanInput>): Promise<Plan> {
    const { engine, environments, ...rest } = input;
    if (engine !== undefined) await this.engines.requireExisting('engine', [engine]);
    if (environments !== undefined) {
      await this.get(id);
      await this.environments.requireExisting('environments', environments);
    }
    if (engine !== undefined || rest.maxConnections !== undefined) {
      const current = await this.get(id);
      await this.checkLimits(engine ?? current.engineId, {
        maxConnections: rest.maxConnections ?? current.maxConnections,
      });
    }
    return this.patch(id, {
      ...rest,
      engineId: engine,
      environmentIds: environments && [...new Set(environments)],
    });
  }

  /** 400 when the plan's engine cannot enforce its limits (a Redis plan with a connection limit). */
  private async checkLimits(engineId: number, limits: PlanLimits): Promise<void> {
    if (!Number.isInteger(limits.maxConnections) || limits.maxConnections < 0)
      throw new ValidationFailedError({ max_connections: ['must be 0 (none) or more'] });
    const engineType = await this.engines.typeNameOf(engineId);
    const problem = engineType && this.limitRules.problem(engineType, limits);
    if (problem) throw new ValidationFailedError({ max_connections: [problem] });
  }

  /** Every active plan with its engine type and environments, in id order (OSB catalog). */
  listOffered(): Promise<OfferedPlan[]> {
    return this.plans.listOffered();
  }

  /** Whether the plan may be used for new databases in this environment. */
  isOfferedIn(plan: Plan, environmentId: number): boolean {
    return plan.isActive && plan.environmentIds.includes(environmentId);
  }
}
