import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { DENIED_SHA256, PINS, PLATFORMS, TOOL_NAMES } from '../src/index.js';

// Every embedded pin must appear, with the same asset name, in the project's checksum reference.
const reference = readFileSync(new URL('../../../test/fixtures/tool-checksums.md', import.meta.url), 'utf8');
const rows = new Set(
  [...reference.matchAll(/^\| ([0-9.]+)[^|]* \| `([^`]+)` \| `([0-9a-f]{64})` \|/gm)].map(
    ([, version, asset, sha]) => `${version} ${asset} ${sha}`,
  ),
);

describe('pins', () => {
  test.each(TOOL_NAMES)('%s: every version pins all three platforms, matching tool-checksums.md', (tool) => {
    const spec = PINS[tool];
    expect(Object.keys(spec.sha256)).toContain(spec.defaultVersion);
    expect(Object.keys(spec.sha256)).toHaveLength(2);
    for (const [version, byPlatform] of Object.entries(spec.sha256)) {
      for (const platform of PLATFORMS) {
        const sha = byPlatform[platform];
        expect(sha).toMatch(/^[0-9a-f]{64}$/);
        expect(rows.has(`${version} ${spec.asset(version, platform)} ${sha}`)).toBe(true);
      }
    }
  });

  test('defaults: trivy 0.74.0 (what the real tier runs), osv-scanner 2.6.0, syft 1.54.1, cosign v2 (2.6.5)', () => {
    expect(TOOL_NAMES.map((t) => PINS[t].defaultVersion)).toEqual(['0.74.0', '2.6.0', '1.54.1', '2.6.5']);
  });

  test('the compromised trivy versions and archive hashes are refused', () => {
    expect(Object.keys(PINS.trivy.refusedVersions)).toEqual(['0.69.4', '0.69.5', '0.69.6']);
    for (const row of reference.matchAll(/^\| `trivy_0\.69\.4_[^`]+` \| `([0-9a-f]{64})` \|/gm))
      expect(DENIED_SHA256.has(row[1] as string)).toBe(true);
    expect(DENIED_SHA256.size).toBe(5);
  });
});
