// Mutation testing of the safety core: `npm run mutate` (not part of `npm test` / CI).
// It changes the code of these libs one small edit at a time (a `>` into `>=`, a condition
// into `true`, a removed call...) and runs the unit specs that cover it against each change:
// a change no spec notices ("survived") is behaviour no unit test pins down.
//
// `MUTATE_LIBS=quarantine,engines npm run mutate` runs a subset; each set of libs keeps its
// own incremental file and report under reports/ (kept out of git: a local cache).
//
// `MUTATE_PROVIDER=redis npm run mutate` mutates one engine provider instead, which no unit
// spec runs: against its tests in the contract suites on real throwaway servers
// (jest.stryker-contract.config.js), one Jest worker, its own incremental file and report.
const PROVIDERS = {
  redis: 'libs/engines/src/redis/redis.provider.ts',
  // Its first run (30 Nov) was stopped partway and is not triaged yet.
  mysql: 'libs/engines/src/mysql/mysql.provider.ts',
};
const provider = process.env.MUTATE_PROVIDER;
if (provider && !PROVIDERS[provider])
  throw new Error(`MUTATE_PROVIDER: unknown provider "${provider}" (${Object.keys(PROVIDERS)})`);
const ALL = ['auth', 'operations', 'credentials', 'databases', 'quarantine', 'engines'];
const libs = (process.env.MUTATE_LIBS || ALL.join(','))
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
for (const name of libs) {
  if (!ALL.includes(name))
    throw new Error(`MUTATE_LIBS: unknown lib "${name}" (${ALL.join(', ')})`);
}
const tag = provider ? `provider-${provider}` : libs.length === ALL.length ? 'all' : libs.join('+');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: provider
    ? // Its four spec files are all there is to run; Jest's related-test lookup would not
      // find them (its roots hold no path from a spec to the provider, via @dbaas/engines).
      { configFile: 'jest.stryker-contract.config.js', enableFindRelatedTests: false }
    : { configFile: 'jest.stryker.config.js' },
  // Each mutant runs only the tests that reached its code.
  coverageAnalysis: 'perTest',
  mutate: provider
    ? [PROVIDERS[provider]]
    : [
        ...libs.map((name) => `libs/${name}/src/**/*.ts`),
        '!**/*.spec.ts',
        '!**/index.ts',
        '!**/*.module.ts',
        // Its sweep removes folders from the machine's temporary folder: a mutant of its name
        // pattern made it remove everything there (the specs of the dump tools use the real
        // one). Its spec was checked against its mutants by hand instead.
        '!libs/engines/src/common/work-folder.ts',
      ],
  // A mutant in code that runs when a module loads (the Redis command table, constants)
  // needs a fresh Jest module registry per mutant: 13% of the mutants, ~80% of the time.
  // They are left out; the real-engine suites in test/engines check those tables.
  ignoreStatic: true,
  // Later runs retest only the mutants whose code or covering specs changed since the
  // last run of the same set of libs.
  incremental: true,
  incrementalFile: `reports/mutation/${tag}.incremental.json`,
  concurrency: provider ? 1 : 2,
  timeoutMS: 15000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${tag}.html` },
  jsonReporter: { fileName: `reports/mutation/${tag}.json` },
  tempDirName: '.stryker-tmp',
  ignorePatterns: [
    '/dist',
    '/.dbaas',
    '/coverage',
    '/bench',
    '/reports',
    '/test/*',
    '!/test/engines',
    // The medium specs start their store with the harness.
    '!/test/harness',
  ],
  cleanTempDir: true,
};
