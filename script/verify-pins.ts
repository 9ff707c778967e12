// Downloads every pinned release asset (each tool, version and platform in packages/tools/src/pins.ts) and checks
// it hashes to the SHA-256 embedded in the code. The development machines cannot reach GitHub releases, so the e2e
// workflow runs this; a mismatch fails it, and the pin must be corrected from the tool's signed checksums.
import { createHash } from 'node:crypto';
import { PINS, PLATFORMS } from '@golden-image/tools';

const failures: string[] = [];
for (const [tool, spec] of Object.entries(PINS)) {
  for (const [version, hashes] of Object.entries(spec.sha256)) {
    for (const platform of PLATFORMS) {
      const expected = hashes[platform];
      if (!expected) continue;
      const url = `https://github.com/${spec.repository}/releases/download/v${version}/${spec.asset(version, platform)}`;
      const response = await fetch(url);
      if (!response.ok) {
        failures.push(`${tool} ${version} ${platform}: HTTP ${response.status} for ${url}`);
        continue;
      }
      const actual = createHash('sha256')
        .update(Buffer.from(await response.arrayBuffer()))
        .digest('hex');
      const verdict = actual === expected ? 'ok' : `MISMATCH (embedded ${expected})`;
      console.log(`${tool} ${version} ${platform}: ${actual} ${verdict}`);
      if (actual !== expected)
        failures.push(`${tool} ${version} ${platform}: ${url} hashes to ${actual}, embedded ${expected}`);
    }
  }
}
if (failures.length > 0) {
  console.error(`\n${failures.length} pinned asset(s) failed:\n${failures.join('\n')}`);
  process.exit(1);
}
