/**
 * The Jest environment of `jest.stryker-contract.config.js` (mutating an engine provider
 * against the contract suites). Stryker wraps it to record which test reaches which mutant,
 * then runs each mutant with a name filter of those tests. Two fixes for that on these suites:
 *
 * - A contract `describe` is one scenario: its tests build on the ones before (the database
 *   and users made by the first). A test run without them fails whatever the mutant, or passes
 *   with nothing to check, so a filter that names any test of a `describe` runs all its tests
 *   of this engine (`testEnvironmentOptions.engine`, the config's pattern).
 * - jest-circus announces a test (`test_start`) before it finds it filtered out, and Stryker
 *   takes the announced test as the current one until the next test ends: the `beforeAll` of
 *   a describe after another engine's filtered tests counted as the coverage of one of them,
 *   and that engine's suite (its server) ran for those mutants. A skipped test is no test.
 *
 * And, as Stryker's own bail does across runs: once a test fails, the file's later tests are
 * skipped (one failure kills the mutant; a whole scenario would run on otherwise).
 */
const { TestEnvironment } = require('jest-environment-node');

module.exports = class StrykerContractEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.engine = new RegExp(config.projectConfig.testEnvironmentOptions.engine, 'i');
  }

  handleTestEvent(event, state) {
    if (event.name === 'run_start' && state.testNamePattern) {
      state.testNamePattern = this.wholeScenarios(state.rootDescribeBlock, state.testNamePattern);
    }
    if (event.name === 'test_done' && event.test.errors.length > 0) {
      state.testNamePattern = /^(?!)/; // matches no name
    }
    if (event.name === 'test_skip') {
      const stryker = this.global[this.global.__strykerGlobalNamespace__ ?? '__stryker__'];
      if (stryker) stryker.currentTestId = undefined;
    }
  }

  /** The tests of this engine in every describe where `pattern` names one, as a pattern. */
  wholeScenarios(root, pattern) {
    const names = [];
    const visit = (block, path) => {
      const tests = block.children
        .filter((child) => child.type === 'test')
        .map((test) => [...path, test.name].join(' '));
      if (tests.some((name) => pattern.test(name)))
        names.push(...tests.filter((name) => this.engine.test(name)));
      for (const child of block.children)
        if (child.type === 'describeBlock') visit(child, [...path, child.name]);
    };
    visit(root, []);
    const escaped = names.map((name) => `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    return escaped.length ? new RegExp(escaped.join('|'), 'i') : pattern;
  }
};
