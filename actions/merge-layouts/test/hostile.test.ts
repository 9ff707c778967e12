import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OCI_INDEX, sha256Digest } from '@golden-image/oci';
import { buildLayout, createTestContext, tempDir } from '@golden-image/testkit';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { type HostileLayouts, hostileLayouts } from '../../../test/hostile/layouts.js';
import { main } from '../main.js';

let layouts: HostileLayouts;
let good: { path: string; digest: string };
beforeAll(async () => {
  [layouts, good] = await Promise.all([
    hostileLayouts(),
    buildLayout(tempDir(), { platforms: ['linux/amd64'], seed: 'hostile-merge' }),
  ]);
});

describe('merge-layouts refuses a hostile input before writing anything, naming it', () => {
  const names: (keyof HostileLayouts)[] = [
    'symlinkBlob',
    'symlinkDir',
    'symlinkIndex',
    'traversalDigest',
    'hugeIndex',
    'hugeBlob',
    'nested',
    'wide',
    'fifoBlob',
    'fifoIndex',
    'hugeMarker',
    'unsafeSize',
    'lyingSize',
    'jsonBomb',
  ];
  test.each(names)('%s', async (name) => {
    const hostile = layouts[name];
    const temp = tempDir();
    const { ctx } = createTestContext(
      { 'layout-paths': `${good.path}\n${hostile.path}`, digests: `${good.digest}\n${hostile.digest}` },
      { tempDir: temp },
    );
    await expect(main(ctx)).rejects.toThrow(/^(Input 2 \(line 2 of layout-paths and digests, |Input "digests": )/);
    const [dest = ''] = readdirSync(temp);
    expect(readdirSync(join(temp, dest))).toEqual([]);
  });

  test('an index of indexes: refused plainly, as build-oci never writes one', async () => {
    const outer = tempDir();
    const inner = await buildLayout(outer, { platforms: ['linux/arm64'], seed: 'inner' });
    const innerBytes = readFileSync(join(outer, 'blobs', 'sha256', inner.digest.slice(7)));
    const wrapper = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_INDEX, digest: inner.digest, size: innerBytes.length }],
      }),
    );
    const digest = sha256Digest(wrapper);
    writeFileSync(join(outer, 'blobs', 'sha256', digest.slice(7)), wrapper);
    writeFileSync(
      join(outer, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: OCI_INDEX, digest, size: wrapper.length }] }),
    );
    const { ctx } = createTestContext({
      'layout-paths': `${good.path}\n${outer}`,
      digests: `${good.digest}\n${digest}`,
    });
    await expect(main(ctx)).rejects.toThrow(
      `Input 2 (line 2 of layout-paths and digests, ${outer}): its index lists a ${OCI_INDEX} (${inner.digest}); merge-layouts takes layouts whose index lists image and attestation manifests`,
    );
  });
});
