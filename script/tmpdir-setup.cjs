// A run (of jest, as its globalSetup, or of a script, through own-tmpdir.ts) gets a temporary directory of its own:
// TMPDIR, so every mkdtemp of the tests and of the tools they start lands in it; tmpdir-teardown.cjs removes it
// when the run ends, passed or failed.
// World-writable and sticky as /tmp is: some tests run a bundle as uid 65534. GOLDEN_IMAGE_KEEP_TMP=1 keeps it.
const { chmodSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'golden-image-run-'));
  chmodSync(dir, 0o1777);
  globalThis.goldenImageRunTmp = dir;
  process.env.TMPDIR = dir;
};
