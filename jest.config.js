// ts-jest only transpiles; `npm run typecheck` is the type check.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: [
    '<rootDir>/packages/*/test/**/*.test.ts',
    '<rootDir>/actions/*/test/**/*.test.ts',
    '<rootDir>/test/**/*.test.ts',
  ],
  // The real-tool tier (*.real.test.ts) runs with `npm run test:real` (jest.real.config.js); the workflow tier
  // (*.workflow.test.ts, workflows run by nektos/act) with `npm run test:workflow` (jest.workflow.config.js).
  testPathIgnorePatterns: ['/node_modules/', '\\.real\\.test\\.ts$', '\\.workflow\\.test\\.ts$'],
  testTimeout: 120000,
  // Each run writes its temporary files under a directory of its own, removed at the end.
  globalSetup: '<rootDir>/script/tmpdir-setup.cjs',
  globalTeardown: '<rootDir>/script/tmpdir-teardown.cjs',
  reporters: ['default', '<rootDir>/script/jest-closing-line.cjs'],
};
