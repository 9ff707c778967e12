import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Digest } from '@golden-image/oci';
import { createTestContext, startRegistry, type TestRegistry, toolAvailable } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { main as promoteTags } from '../../promote-tags/main.js';
import { main as pushLayout } from '../../push-layout/main.js';
import { main as buildOci } from '../main.js';
import { DoublesRunner, sampleImage } from './helpers.js';

const hasBuildah = toolAvailable('buildah');

function readBack(ref: string): string {
  return sha256Digest(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]));
}

// A real chain on this machine: buildah builds the layout, push-layout pushes those bytes, promote-tags moves a
// rolling tag; every tag reads back as the built digest.
describe('build-oci (buildah) -> push-layout -> promote-tags against a real registry', () => {
  if (!hasBuildah) {
    test.skip('buildah is not installed here', () => {});
    return;
  }
  let registry: TestRegistry;
  let temp: string;
  beforeAll(async () => {
    registry = await startRegistry();
    temp = mkdtempSync(join(tmpdir(), 'build-oci-chain-'));
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  test('the digest built is the digest pushed and the digest every tag resolves to', async () => {
    const runner = new DoublesRunner();
    const image = `${registry.host}/chain/sample`;
    const build = createTestContext(
      {
        builder: 'buildah',
        context: sampleImage,
        platforms: 'linux/amd64,linux/arm64',
        provenance: 'false',
        sbom: 'false',
      },
      { runner, tempDir: temp },
    );
    await buildOci(build.ctx);
    const { digest, 'layout-path': layoutPath } = build.recorded.outputs as { digest: string; 'layout-path': string };

    const push = createTestContext(
      { 'layout-path': layoutPath, digest, image, tags: 'sha-0123abc', 'tls-verify': 'false' },
      { runner, tempDir: temp },
    );
    await pushLayout(push.ctx);
    expect(push.recorded.outputs.digest).toBe(digest);
    expect(JSON.parse(push.recorded.outputs.platforms as string)).toEqual(
      JSON.parse(build.recorded.outputs.platforms as string),
    );

    // imagetools is refused with tls-verify: false (promote-tags' own rule), so the plain-HTTP registry here uses skopeo.
    for (const engine of ['skopeo']) {
      const promote = createTestContext(
        { image, digest, tags: `latest-${engine}`, engine, 'require-signature': 'false', 'tls-verify': 'false' },
        { runner, tempDir: temp },
      );
      await promoteTags(promote.ctx);
      expect(readBack(`${image}:latest-${engine}`)).toBe(digest);
    }
    expect(readBack(`${image}:sha-0123abc`)).toBe(digest);
    expect(readBack(`${image}@${digest}`)).toBe(digest);
  });
});
