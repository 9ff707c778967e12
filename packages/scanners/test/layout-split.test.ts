import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLayout } from '@golden-image/oci';
import { untarBuildxLayout } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { singlePlatformLayout } from '../src/index.js';

describe('singlePlatformLayout', () => {
  test('each platform of the buildx layout becomes a valid layout naming only that manifest, blobs hard-linked', async () => {
    const root = mkdtempSync(join(tmpdir(), 'split-'));
    const layout = await verifyLayout(untarBuildxLayout().path);
    const platforms = layout.manifests.filter((m) => !m.attestation);
    expect(platforms.map((m) => m.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    for (const [i, manifest] of platforms.entries()) {
      const dir = await singlePlatformLayout(layout.path, manifest, join(root, `p${i}`));
      const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
      expect(index.manifests).toHaveLength(1);
      expect(index.manifests[0]).toMatchObject({
        digest: manifest.digest,
        platform: { os: 'linux', architecture: manifest.platform.split('/')[1] },
      });
      // The split layout verifies on its own: every blob present and hashing to its name.
      const single = await verifyLayout(dir, manifest.digest, { layers: 'digest' });
      expect(single.manifests).toEqual([{ ...manifest }]);
      const blob = join('blobs', 'sha256', manifest.digest.slice(7));
      expect(statSync(join(dir, blob)).ino).toBe(statSync(join(layout.path, blob)).ino);
    }
  });
});
