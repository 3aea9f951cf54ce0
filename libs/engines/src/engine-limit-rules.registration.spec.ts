import { EngineLimitRules } from '@dbaas/catalog';
import { createEngineProviders } from './engine-list';
import {
  engineLimitProblem,
  EngineLimitRulesRegistration,
} from './engine-limit-rules.registration';
import { EngineRegistry } from './engine-registry';

describe('engine limit rules', () => {
  const registry = new EngineRegistry(createEngineProviders());
  afterAll(() => registry.closeAll());

  it('lets PostgreSQL and MySQL plans limit connections, not Redis or MongoDB ones', () => {
    expect(engineLimitProblem(registry, 'postgresql', { maxConnections: 5 })).toBeNull();
    expect(engineLimitProblem(registry, 'mysql', { maxConnections: 5 })).toBeNull();
    expect(engineLimitProblem(registry, 'redis', { maxConnections: 5 })).toMatch(
      /^Redis cannot limit a database's connections/,
    );
    expect(engineLimitProblem(registry, 'mongodb', { maxConnections: 1 })).toMatch(/MongoDB/);
  });

  it('accepts no limit (0) on every engine, and has no opinion on unknown engine types', () => {
    for (const type of registry.types())
      expect(engineLimitProblem(registry, type, { maxConnections: 0 })).toBeNull();
    expect(engineLimitProblem(registry, 'oracle', { maxConnections: 5 })).toBeNull();
  });

  it('tells the catalog at startup', () => {
    const rules = new EngineLimitRules();
    expect(rules.problem('redis', { maxConnections: 5 })).toBeNull();
    new EngineLimitRulesRegistration(rules, registry);
    expect(rules.problem('redis', { maxConnections: 5 })).toMatch(/Redis/);
  });
});
