// Mutation testing of the safety core: `npm run mutate` (not part of `npm test` / CI).
// It changes the code of these libs one small edit at a time (a `>` into `>=`, a condition
// into `true`, a removed call...) and runs the unit specs that cover it against each change:
// a change no spec notices ("survived") is behaviour no unit test pins down.
//
// `MUTATE_LIBS=quarantine,engines npm run mutate` runs a subset; each set of libs keeps its
// own incremental file and report under reports/ (kept out of git: a local cache).
const ALL = ['auth', 'operations', 'credentials', 'databases', 'quarantine', 'engines'];
const libs = (process.env.MUTATE_LIBS || ALL.join(','))
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
for (const name of libs) {
  if (!ALL.includes(name))
    throw new Error(`MUTATE_LIBS: unknown lib "${name}" (${ALL.join(', ')})`);
}
const tag = libs.length === ALL.length ? 'all' : libs.join('+');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: { configFile: 'jest.stryker.config.js' },
  coverageAnalysis: 'perTest',
  mutate: [
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
  concurrency: 2,
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
