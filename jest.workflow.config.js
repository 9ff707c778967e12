// The workflow tier: the project's own workflow files run by nektos/act on the host against the real tools
// (test/workflow-tier/*.workflow.test.ts). One file at a time, as the real tier: every run starts BuildKit, a registry,
// Fulcio and act's own servers, and the machines have two cores.
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/packages/*/test/**/*.workflow.test.ts', '<rootDir>/test/workflow-tier/**/*.workflow.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 1_800_000,
};
