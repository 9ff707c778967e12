import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyLayout } from '@golden-image/oci';
import { createTestContext, tempDir, toolAvailable } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { main as buildOci } from '../../build-oci/main.js';
import { DoublesRunner, sampleImage } from '../../build-oci/test/helpers.js';
import { main } from '../main.js';

const hasBuildah = toolAvailable('buildah');

async function buildOne(platform: string) {
  const { ctx, recorded } = createTestContext(
    { builder: 'buildah', context: sampleImage, platforms: platform, provenance: 'false', sbom: 'false' },
    { runner: new DoublesRunner(), tempDir: tempDir(), env: { ...process.env, SOURCE_DATE_EPOCH: '0' } },
  );
  await buildOci(ctx);
  return {
    path: recorded.outputs['layout-path'] as string,
    digest: recorded.outputs.digest as string,
    platforms: JSON.parse(recorded.outputs.platforms as string) as Record<string, string>,
  };
}

describe('merge-layouts on layouts from the real buildah (one build per platform, as a matrix job runs it)', () => {
  if (!hasBuildah) {
    test.skip('buildah is not installed here', () => {});
    return;
  }

  test('two per-platform builds merge into one index of both manifests, as built', async () => {
    const amd64 = await buildOne('linux/amd64');
    const arm64 = await buildOne('linux/arm64');
    const { ctx, recorded } = createTestContext({
      'layout-paths': `${arm64.path}\n${amd64.path}`,
      digests: `${arm64.digest}\n${amd64.digest}`,
    });
    await main(ctx);
    const merged = await verifyLayout(recorded.outputs['layout-path'] as string, recorded.outputs.digest, {
      layers: 'digest',
    });
    expect(JSON.parse(recorded.outputs.platforms as string)).toEqual({ ...amd64.platforms, ...arm64.platforms });
    // The manifests are buildah's own bytes: each hashes to the digest its build reported.
    const blob = (layout: string, digest: string) => readFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)));
    for (const input of [amd64, arm64]) {
      for (const digest of Object.values(input.platforms))
        expect(blob(merged.path, digest).equals(blob(input.path, digest))).toBe(true);
    }
    expect(merged.manifests.map((m) => m.platform)).toEqual(['linux/amd64', 'linux/arm64']);
  });
});
