import { Injectable } from '@nestjs/common';

/** The limits a plan puts on each of its databases (0 = none). */
export interface PlanLimits {
  maxConnections: number;
}

/** Why an engine type cannot enforce these limits, or null when it can. */
export type EngineLimitRule = (engineType: string, limits: PlanLimits) => string | null;

/**
 * Which limits an engine can enforce is the engine provider's knowledge (@dbaas/engines),
 * a layer above the catalog: the engines lib tells it here at startup (`use`), as
 * InfraAccess listens to infra writes. Plans and infras ask before they are written, so a
 * Redis plan never carries a connection limit and a Redis infra never serves one.
 */
@Injectable()
export class EngineLimitRules {
  private rule: EngineLimitRule = () => null;

  use(rule: EngineLimitRule): void {
    this.rule = rule;
  }

  /** Why `engineType` cannot enforce `limits` (a sentence), or null. */
  problem(engineType: string, limits: PlanLimits): string | null {
    return this.rule(engineType, limits);
  }
}
