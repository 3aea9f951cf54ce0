// Mutation testing of the safety core: `npm run mutate` (not part of `npm test` / CI).
// It changes the code of these libs one small edit at a time (a `>` into `>=`, a condition
// into `true`, a removed call...) and runs the unit specs against each change: a change no
// spec notices ("survived") is behaviour no unit test pins down. Reports: reports/mutation/.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: { configFile: 'jest.stryker.config.js' },
  coverageAnalysis: 'perTest',
  mutate: [
    'libs/{auth,operations,credentials,databases,quarantine,engines}/src/**/*.ts',
    '!**/*.spec.ts',
    '!**/index.ts',
    '!**/*.module.ts',
  ],
  // Later runs retest only the mutants whose code or covering specs changed since the
  // last run (the result file is a local cache, kept out of git like the reports).
  // A mutant in code that runs when a module loads (the Redis command table, constants)
  // needs a fresh Jest module registry per mutant: 13% of the mutants, ~80% of the time.
  // They are left out; the real-engine suites in test/engines check those tables.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  concurrency: 2,
  timeoutMS: 10000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: [
    '/dist',
    '/.dbaas',
    '/coverage',
    '/bench',
    '/reports',
    '/test/*',
    '!/test/engines',
  ],
  cleanTempDir: true,
};
