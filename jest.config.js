/** One Jest run for everything: unit specs next to the code, e2e and engine suites in test/. */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.(spec|e2e-spec|contract-spec)\\.ts$',
  // .stryker-tmp: the sandboxes of a mutation run (npm run mutate), copies of the specs
  // (<rootDir>: inside a sandbox, its own specs still run).
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/.stryker-tmp/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.spec.json' }] },
  testEnvironment: 'node',
  testTimeout: 60000,
  moduleNameMapper: {
    '^@dbaas/core(|/.*)$': '<rootDir>/libs/core/src$1',
    '^@dbaas/(persistence|auth|catalog|engines|credentials|databases|quarantine|sample-data|operations|broker|backups)$':
      '<rootDir>/libs/$1/src',
  },
};
