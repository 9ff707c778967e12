import { appendFileSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeVerification, LIMITS, platformDigests, sha256Digest, verifyLayout } from '@golden-image/oci';
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

  test('index.json naming a second image (as buildx does to a reused directory): the digest input picks one', async () => {
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    index.manifests.unshift({ ...index.manifests[0], digest: built.platforms['linux/amd64'] });
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
    await expect(verifyLayout(dir)).rejects.toThrow('points at 2 different images');
    const chosen = await verifyLayout(dir, built.digest);
    expect(chosen).toMatchObject({ digest: built.digest, entries: 2 });
    expect(platformDigests(chosen.manifests)).toEqual(built.platforms);
    await expect(verifyLayout(dir, `sha256:${'1'.repeat(64)}`)).rejects.toThrow(
      `index.json lists ${built.platforms['linux/amd64']}, ${built.digest}, but the "digest" input is sha256:1111`,
    );
  });

  test('says what it checked: layers by size unless asked to hash them', async () => {
    expect(describeVerification(await verifyLayout(dir, built.digest))).toMatch(
      /every index, manifest and config hashes to its name; layers are present, readable and of the described size \(not hashed here/,
    );
    expect(describeVerification(await verifyLayout(dir, built.digest, { layers: 'digest' }))).toMatch(
      /every blob is present, readable and hashes to its name\.$/,
    );
  });

  test('an OCI 1.1 artifact in the index is neither a platform nor an attestation, and its artifactType is reported', async () => {
    const top = JSON.parse(readFileSync(blob(dir, built.digest), 'utf8'));
    const put = (value: object) => {
      const bytes = Buffer.from(JSON.stringify(value));
      writeFileSync(blob(dir, sha256Digest(bytes)), bytes);
      return { digest: sha256Digest(bytes), size: bytes.length };
    };
    const empty = put({});
    const artifact = put({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/spdx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
      layers: [{ mediaType: 'application/spdx+json', ...put({ spdxVersion: 'SPDX-2.3' }) }],
    });
    top.manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...artifact,
      artifactType: 'application/spdx+json',
    });
    const index = put(top);
    writeFileSync(
      join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...index }],
      }),
    );
    const layout = await verifyLayout(dir, index.digest);
    expect(platformDigests(layout.manifests)).toEqual(built.platforms);
    expect(layout.manifests.find((m) => m.digest === artifact.digest)).toMatchObject({
      artifact: true,
      attestation: false,
    });
    expect(layout.oci11Fields).toEqual([`index ${index.digest} manifests[4] has artifactType "application/spdx+json"`]);
  });

  test('the top-level annotations are handed on (the revision and source evidence)', async () => {
    const top = JSON.parse(readFileSync(blob(dir, built.digest), 'utf8'));
    top.annotations = { 'org.opencontainers.image.revision': 'a'.repeat(40), other: 'x' };
    const bytes = Buffer.from(JSON.stringify(top));
    writeFileSync(blob(dir, sha256Digest(bytes)), bytes);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    index.manifests[0] = { ...index.manifests[0], digest: sha256Digest(bytes), size: bytes.length };
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
    const layout = await verifyLayout(dir, sha256Digest(bytes));
    expect(layout.annotations).toEqual(top.annotations);
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
