// The real-tool tier: *.real.test.ts against the binaries of `npm run tools:real`. One test file at a time: the
// tools are heavy (Trivy's DB, buildkitd, Fulcio) and the machines have two cores.
import base from './jest.config.js';

export default {
  ...base,
  testMatch: base.testMatch.map((glob) => glob.replace('*.test.ts', '*.real.test.ts')),
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 600000,
};
