import { EngineLimitRules, PlanLimits } from '@dbaas/catalog';
import { Injectable } from '@nestjs/common';
import { EngineRegistry } from './engine-registry';

/**
 * Why an engine cannot enforce a plan's limits, from its provider's facts (null when it
 * can, or when no provider knows the type: the catalog decides about unknown types).
 */
export function engineLimitProblem(
  registry: Pick<EngineRegistry, 'find'>,
  engineType: string,
  limits: PlanLimits,
): string | null {
  const provider = registry.find(engineType);
  if (!provider) return null;
  if (limits.maxConnections > 0 && !provider.enforcesConnectionLimit)
    return `${provider.displayName} cannot limit a database's connections: max_connections must be 0`;
  return null;
}

/** Tells the catalog which limits each engine can enforce (EngineLimitRules), at startup. */
@Injectable()
export class EngineLimitRulesRegistration {
  constructor(rules: EngineLimitRules, registry: EngineRegistry) {
    rules.use((engineType, limits) => engineLimitProblem(registry, engineType, limits));
  }
}
