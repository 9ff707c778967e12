import { readdirSync, readFileSync } from 'node:fs';
import { buildDigest, parseBuildxMetadata } from '@golden-image/image-build';
import { thirdParty } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';

/** Every JSON file under fixtures/third-party/buildx/ that buildx wrote as a --metadata-file (build or bake shape). */
const metadataFiles = readdirSync(thirdParty('buildx'))
  .filter((name) => name.endsWith('.json'))
  .filter((name) => {
    const json = JSON.parse(readFileSync(thirdParty('buildx', name), 'utf8')) as Record<string, unknown>;
    const hasBuildKeys = (o: unknown) =>
      !!o &&
      typeof o === 'object' &&
      Object.keys(o).some((k) => k.startsWith('buildx.build.') || k.startsWith('containerimage.'));
    return hasBuildKeys(json) || Object.values(json).some(hasBuildKeys);
  });

describe('parseBuildxMetadata on the real metadata files', () => {
  test('the fixtures hold both shapes', () => {
    expect(metadataFiles.sort()).toEqual(['metadata-file-bake-three-targets.json', 'metadata-file-build.json']);
  });

  test.each(metadataFiles)('%s parses, and every containerimage.digest it holds is read', (name) => {
    const text = readFileSync(thirdParty('buildx', name), 'utf8');
    const raw = JSON.parse(text) as Record<string, Record<string, unknown>>;
    const metadata = parseBuildxMetadata(text, name);
    expect(metadata.raw).toEqual(raw);
    if ('containerimage.digest' in raw) expect(metadata.digest).toBe(raw['containerimage.digest']);
    for (const [target, value] of Object.entries(metadata.targets)) {
      expect(value.digest).toBe(raw[target]?.['containerimage.digest']);
      expect(value.ref).toBe(raw[target]?.['buildx.build.ref']);
    }
  });

  test('build shape: the digest, config digest, ref and warnings', () => {
    const metadata = parseBuildxMetadata(readFileSync(thirdParty('buildx', 'metadata-file-build.json'), 'utf8'));
    expect(buildDigest(metadata)).toBe('sha256:b09b9482c72371486bb2c1d2c2a2633ed1d0b8389e12c8d52b9e052725c0c83c');
    // This real file's config digest has 63 hex digits (so it is kept as written, not checked: only the image digest matters).
    expect(metadata.configDigest).toBe('sha256:059b68a595b22564a1cbc167f369349fdc2ecc1f7bc092c2235cbf601a795fd');
    expect(metadata.ref).toMatch(/^default\/default\//);
    expect(metadata.warnings).toBeGreaterThan(0);
    expect(metadata.targets).toEqual({});
  });

  test('bake shape: one result per target, and no single build digest', () => {
    const metadata = parseBuildxMetadata(
      readFileSync(thirdParty('buildx', 'metadata-file-bake-three-targets.json'), 'utf8'),
    );
    expect(Object.keys(metadata.targets).sort()).toEqual(['lint', 'lint-inline', 'lint-other']);
    for (const target of Object.values(metadata.targets)) expect(target.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(metadata.digest).toBeUndefined();
    expect(() => buildDigest(metadata)).toThrow(
      'It holds bake targets (lint, lint-inline, lint-other), not a single build.',
    );
  });

  test('a descriptor that disagrees with containerimage.digest, a bad digest, and non-JSON are refused', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    const disagree = parseBuildxMetadata(
      JSON.stringify({ 'containerimage.digest': a, 'containerimage.descriptor': { digest: b } }),
    );
    expect(() => buildDigest(disagree)).toThrow('disagrees with itself');
    expect(() => parseBuildxMetadata(JSON.stringify({ 'containerimage.digest': 'sha256:XYZ' }))).toThrow(
      'is not a sha256 digest',
    );
    expect(() => parseBuildxMetadata('not json')).toThrow('is not JSON');
    expect(() => parseBuildxMetadata('[]')).toThrow('is not a JSON object');
  });
});
