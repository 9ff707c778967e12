// `npm run tools:real` builds exactly the pinned version or fails: a substitute would let the real tier pass with a
// version users never run (the Trivy pin once named 0.75.0 while 0.74.0 was built and tested).
import { PINS } from '@golden-image/tools';
import { describe, expect, test } from '@jest/globals';
import { REAL_TOOLS } from '../script/real-tools/catalogue.js';
import { nearestVersion, substitutionProblem, upstreamDirectives } from '../script/real-tools/versions.js';

const served = ['v0.72.0', 'v0.73.0', 'v0.74.0', 'v0.74.1-rc1'];

describe('tools:real versions', () => {
  test('the pinned version served: built as is', () => {
    expect(substitutionProblem('trivy', 'github.com/aquasecurity/trivy', 'v0.74.0', served)).toBeUndefined();
  });

  test('a pinned version the proxy does not serve is a failure naming the nearest, never a silent substitute', () => {
    expect(substitutionProblem('trivy', 'github.com/aquasecurity/trivy', 'v0.75.0', served)).toBe(
      'trivy: pinned 0.75.0, but the Go module proxy does not serve github.com/aquasecurity/trivy@v0.75.0; nothing ' +
        'was built. Move the pin (packages/tools/src/pins.ts or script/real-tools/catalogue.ts) to a served version ' +
        'such as 0.74.0, with its SHA-256s, so users run the version the real tier runs.',
    );
    expect(substitutionProblem('x', 'example.com/x', 'v1.0.0', [])).toBe(
      'x: the Go module proxy serves no release of example.com/x',
    );
    expect(nearestVersion('v0.71.0', served)).toBe('v0.72.0');
  });

  test('every tool the suite installs is pinned in one place (packages/tools), the catalogue only names its module', () => {
    for (const tool of REAL_TOOLS.filter((t) => t.suiteTool)) {
      expect(tool.version).toBe('');
      expect(PINS[tool.suiteTool as keyof typeof PINS].defaultVersion).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  test('the wrapper module copies replace and exclude lines, never local paths', () => {
    const goMod = [
      'module x',
      'replace k8s.io/a => github.com/b/a v1.0.0',
      'replace ./local => ../x',
      'exclude (',
      '\tgithub.com/c v1.2.0',
      '\t// note',
      ')',
    ].join('\n');
    expect(upstreamDirectives(goMod)).toBe(
      'replace k8s.io/a => github.com/b/a v1.0.0\nexclude (\n\tgithub.com/c v1.2.0\n)',
    );
  });
});
