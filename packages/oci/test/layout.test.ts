import { appendFileSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIMITS, platformDigests, sha256Digest, verifyLayout } from '@golden-image/oci';
import { buildLayout, tempDir, untarBuildxLayout } from '@golden-image/testkit';
import { beforeEach, describe, expect, test } from '@jest/globals';

const blob = (dir: string, digest: string) => join(dir, 'blobs', 'sha256', digest.slice(7));

describe('verifyLayout on the real buildx multi-platform layout', () => {
  test('finds two platforms and two attestation manifests, and the digest index.json names', async () => {
    const { path, digest } = untarBuildxLayout();
    const layout = await verifyLayout(path, digest);
    expect(layout.digest).toBe(digest);
    expect(digest).toBe(sha256Digest(readFileSync(blob(path, digest))));
    expect(layout.manifests.filter((m) => !m.attestation).map((m) => m.platform)).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
    const attestations = layout.manifests.filter((m) => m.attestation);
    expect(attestations).toHaveLength(2);
    for (const attestation of attestations) {
      expect(attestation.platform).toBe('unknown/unknown');
      expect(Object.values(platformDigests(layout.manifests))).toContain(attestation.subject);
    }
    expect(Object.keys(platformDigests(layout.manifests))).toEqual(['linux/amd64', 'linux/arm64']);
  });
});

describe('verifyLayout refuses tampered layouts', () => {
  let dir: string;
  let built: Awaited<ReturnType<typeof buildLayout>>;
  beforeEach(async () => {
    dir = tempDir();
    built = await buildLayout(dir, { platforms: ['linux/amd64', 'linux/arm64'], layerSizes: [4096, 10_000] });
  });

  test('an intact layout verifies, with the right platforms, also when every layer is hashed', async () => {
    const layout = await verifyLayout(dir, built.digest, { layers: 'digest' });
    expect(platformDigests(layout.manifests)).toEqual(built.platforms);
    expect(layout.blobCount).toBe(1 + 2 * 4 + 2 * 3);
  });

  test('a different expected digest', async () => {
    await expect(verifyLayout(dir, `sha256:${'0'.repeat(64)}`)).rejects.toThrow(
      /index.json points at sha256:[0-9a-f]{64}, but the "digest" input is sha256:0000/,
    );
  });

  test('index.json pointing elsewhere (a second image added, as buildx does to a reused directory)', async () => {
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    index.manifests.push({ ...index.manifests[0], digest: built.platforms['linux/amd64'] });
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
    await expect(verifyLayout(dir, built.digest)).rejects.toThrow('points at 2 different images');
  });

  test('an edited manifest', async () => {
    const manifest = blob(dir, built.platforms['linux/arm64'] as string);
    const edited = readFileSync(manifest, 'utf8').replace('"schemaVersion":2', '"schemaVersion": 2');
    writeFileSync(manifest, edited.slice(0, -1));
    await expect(verifyLayout(dir, built.digest)).rejects.toThrow(/does not hash to its name/);
  });

  test('a missing layer', async () => {
    const manifest = JSON.parse(readFileSync(blob(dir, built.platforms['linux/amd64'] as string), 'utf8'));
    rmSync(blob(dir, manifest.layers[1].digest));
    await expect(verifyLayout(dir, built.digest)).rejects.toThrow(/is missing .*The layout is incomplete/);
  });

  test('a truncated layer', async () => {
    const manifest = JSON.parse(readFileSync(blob(dir, built.platforms['linux/amd64'] as string), 'utf8'));
    truncateSync(blob(dir, manifest.layers[0].digest), 100);
    await expect(verifyLayout(dir, built.digest)).rejects.toThrow(/is 100 bytes, but its descriptor says/);
  });

  test('a layer changed in place is caught by layers: digest', async () => {
    const manifest = JSON.parse(readFileSync(blob(dir, built.platforms['linux/amd64'] as string), 'utf8'));
    const path = blob(dir, manifest.layers[0].digest);
    const bytes = readFileSync(path);
    bytes[600] = (bytes[600] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    await expect(verifyLayout(dir, built.digest, { layers: 'digest' })).rejects.toThrow('does not hash to its name');
  });

  test('a blob that is a symbolic link to a file outside the layout', async () => {
    const manifest = JSON.parse(readFileSync(blob(dir, built.platforms['linux/amd64'] as string), 'utf8'));
    const path = blob(dir, manifest.layers[0].digest);
    const outside = join(tempDir(), 'outside');
    writeFileSync(outside, readFileSync(path));
    rmSync(path);
    symlinkSync(outside, path);
    await expect(verifyLayout(dir, built.digest)).rejects.toThrow('is a symbolic link');
  });

  test('an oversized index.json is refused without being read whole', async () => {
    appendFileSync(join(dir, 'index.json'), ' '.repeat(LIMITS.indexJsonBytes));
    await expect(verifyLayout(dir, built.digest)).rejects.toThrow(/index.json is \d+ bytes; the limit is/);
  });

  test('not a layout, or a path with a colon', async () => {
    await expect(verifyLayout(tempDir(), built.digest)).rejects.toThrow('has no oci-layout file');
    await expect(verifyLayout('/no/such/dir', built.digest)).rejects.toThrow('does not exist');
    await expect(verifyLayout('/tmp/a:b', built.digest)).rejects.toThrow('contains ":"');
  });

  test('a single platform without attestations is a manifest at the top', async () => {
    const single = tempDir();
    const one = await buildLayout(single, { platforms: ['linux/arm64/v8'], attestations: false });
    const layout = await verifyLayout(single, one.digest);
    expect(layout.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(platformDigests(layout.manifests)).toEqual({ 'linux/arm64/v8': one.digest });
  });
});
