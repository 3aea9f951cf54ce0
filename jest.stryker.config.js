/**
 * The Jest run Stryker mutates against (`npm run mutate`): the unit specs next to the code
 * in libs/ and apps/, and the two engine specs in test/engines that run on fakes
 * (`*.spec.ts`: the registry and the MongoDB commands). The e2e and contract suites need a
 * build and real engine servers, so a mutant is never judged by them here.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test/engines'],
  testRegex: '.*\\.spec\\.ts$',
  // A mutant that leaves a promise pending fails its test after 4 s instead of running
  // into Stryker's timeout, which costs a restart of the whole Jest worker. The medium
  // specs' `beforeAll`/`afterAll` that start or stop a server (a PostgreSQL store, S3...)
  // pass their own 120 s, so only test bodies (and `beforeEach`) keep this limit.
  testTimeout: 4000,
};
