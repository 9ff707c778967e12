// Removes the run's temporary directory made by tmpdir-setup.cjs (jest's globalTeardown; own-tmpdir.ts at exit).
const { rmSync } = require('node:fs');

module.exports = async () => {
  const dir = globalThis.goldenImageRunTmp;
  if (!dir) return;
  if (process.env.GOLDEN_IMAGE_KEEP_TMP === '1') {
    process.stdout.write(`Temporary files kept in ${dir}\n`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
};
