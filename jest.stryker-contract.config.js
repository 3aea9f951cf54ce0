/**
 * The Jest run Stryker mutates an engine provider against (`MUTATE_PROVIDER=redis npm run
 * mutate`, see stryker.config.mjs): the contract suites in test/engines, which run the
 * providers on real throwaway servers (test/harness), cut to the tests whose full name
 * contains the engine's name (`testNamePattern`, as `jest -t redis`, case-insensitive).
 * A describe none of whose tests run does not run its `beforeAll` either, so no other
 * engine's server is started. Stryker replaces the pattern, for each mutant, by the names
 * of the tests that reached the mutated code; the environment widens that to whole describes.
 *
 * Every spec file is loaded for every mutant, even when none of its tests runs (about 2.5 s
 * each on the shared machine: @dbaas/engines brings TypeORM, NestJS and four drivers), so
 * only the suites that call the provider are listed. Redis leaves out
 * privileges.contract-spec.ts: its Redis tests check the command table of redis-acl.ts and
 * call nothing of the provider but createUser, which the contract calls too.
 */
const base = require('./jest.config');

const ENGINES = {
  redis: { pattern: 'redis', specs: ['engine-provider', 'size-limit', 'security-warnings'] },
  mysql: {
    pattern: 'mysql',
    specs: ['engine-provider', 'privileges', 'size-limit', 'security-warnings'],
  },
};
const engine = ENGINES[process.env.MUTATE_PROVIDER ?? ''];
if (!engine) throw new Error(`MUTATE_PROVIDER: unknown engine "${process.env.MUTATE_PROVIDER}"`);

module.exports = {
  ...base,
  roots: ['<rootDir>/test/engines'],
  testRegex: `/test/engines/(${engine.specs.join('|')})\\.contract-spec\\.ts$`,
  testNamePattern: engine.pattern,
  // Whole scenarios per mutant, and no coverage for skipped tests: see the environment.
  testEnvironment: require.resolve('./test/engines/stryker-contract.environment.js'),
  testEnvironmentOptions: { engine: engine.pattern },
  // Measured (30 Nov 2026): the slowest test, an unreachable address, takes 6 s (two
  // connect timeouts); a `beforeAll` that starts a Redis, well under 1 s; a MariaDB, about
  // 2 s on a quiet machine (the contract's `beforeAll` has no timeout of its own).
  testTimeout: 20000,
};
