import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Digest, verifyLayout } from '@golden-image/oci';
import { Skopeo } from '@golden-image/oci-registry';
import {
  buildLayout,
  createTestContext,
  RecordingRunner,
  skipOffCi,
  startRegistry,
  type TestRegistry,
  tempDir,
  untarBuildxLayout,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { main as pushLayout } from '../../push-layout/main.js';
import { main } from '../main.js';

type Index = { manifests: { digest: string; platform?: { os: string; architecture: string } }[] };

const blobFile = (layout: string, digest: string) => join(layout, 'blobs', 'sha256', digest.slice(7));
const readIndex = (layout: string, digest: string) =>
  JSON.parse(readFileSync(blobFile(layout, digest), 'utf8')) as Index;

async function merge(layouts: { path: string; digest: string }[], tempDirectory = tempDir()) {
  const { ctx, recorded } = createTestContext(
    { 'layout-paths': layouts.map((l) => l.path).join('\n'), digests: layouts.map((l) => l.digest).join('\n') },
    { tempDir: tempDirectory },
  );
  await main(ctx);
  return recorded;
}

async function onePlatform(platform: string, seed = 'merge') {
  return buildLayout(tempDir(), { platforms: [platform], seed, layerSizes: [4096, 2048] });
}

describe('merge-layouts', () => {
  test('two one-platform builds become one index; manifests, attestations and blobs carried unchanged', async () => {
    const amd64 = await onePlatform('linux/amd64');
    const arm64 = await onePlatform('linux/arm64');
    const recorded = await merge([arm64, amd64]);
    const path = recorded.outputs['layout-path'] as string;
    const digest = recorded.outputs.digest as string;
    const layout = await verifyLayout(path, digest, { layers: 'digest' });
    expect(JSON.parse(recorded.outputs.platforms as string)).toEqual({ ...amd64.platforms, ...arm64.platforms });
    // Images sorted by platform, then each attestation in the order of the image it describes.
    expect(readIndex(path, digest).manifests.map((m) => m.digest)).toEqual([
      amd64.platforms['linux/amd64'],
      arm64.platforms['linux/arm64'],
      ...amd64.attestations,
      ...arm64.attestations,
    ]);
    expect(layout.manifests.filter((m) => m.attestation).map((m) => m.subject)).toEqual([
      amd64.platforms['linux/amd64'],
      arm64.platforms['linux/arm64'],
    ]);
    // Each input's index entries are carried byte for byte; every blob is the input's file itself (a hard link).
    const inputEntries = [amd64, arm64].flatMap((input) => readIndex(input.path, input.digest).manifests);
    const merged = readIndex(path, digest).manifests;
    expect(merged).toEqual(expect.arrayContaining(inputEntries));
    expect(merged).toHaveLength(inputEntries.length);
    for (const input of [amd64, arm64]) {
      const inputLayout = await verifyLayout(input.path, input.digest);
      for (const manifest of inputLayout.manifests)
        expect(statSync(blobFile(path, manifest.digest)).ino).toBe(statSync(blobFile(input.path, manifest.digest)).ino);
    }
    expect(recorded.logs.join('\n')).toContain('0 copied, none rewritten');
    expect(recorded.summary).toContain(`| linux/arm64 | input 1: ${arm64.path} | ${arm64.platforms['linux/arm64']} |`);
    expect(recorded.summary).toContain(
      `| attestation of linux/amd64 | input 2: ${amd64.path} | ${amd64.attestations[0]} |`,
    );
  });

  test('the merged digest does not depend on the order the inputs arrive in', async () => {
    const inputs = await Promise.all(['linux/arm/v7', 'linux/amd64', 'linux/s390x'].map((p) => onePlatform(p)));
    const digests = new Set<string>();
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0, 2],
    ]) {
      const recorded = await merge(order.map((i) => inputs[i] as { path: string; digest: string }));
      digests.add(recorded.outputs.digest as string);
    }
    expect(digests.size).toBe(1);
  });

  test('the real buildx layout (two platforms, provenance) merges with a third platform built elsewhere', async () => {
    const buildx = untarBuildxLayout();
    const armv7 = await onePlatform('linux/arm/v7');
    const recorded = await merge([buildx, armv7]);
    const path = recorded.outputs['layout-path'] as string;
    const layout = await verifyLayout(path, recorded.outputs.digest, { layers: 'digest' });
    const fromBuildx = await verifyLayout(buildx.path, buildx.digest);
    expect(Object.keys(JSON.parse(recorded.outputs.platforms as string))).toEqual([
      'linux/amd64',
      'linux/arm/v7',
      'linux/arm64',
    ]);
    expect(layout.manifests.map((m) => m.digest).sort()).toEqual(
      [...fromBuildx.manifests.map((m) => m.digest), armv7.platforms['linux/arm/v7'], ...armv7.attestations].sort(),
    );
    expect(layout.manifests.filter((m) => m.attestation)).toHaveLength(3);
  });

  test('a single-manifest layout (no index) gets an index entry with the platform its config names', async () => {
    const bare = await buildLayout(tempDir(), { platforms: ['linux/ppc64le'], attestations: false, seed: 'bare' });
    const amd64 = await onePlatform('linux/amd64');
    const recorded = await merge([bare, amd64]);
    const index = readIndex(recorded.outputs['layout-path'] as string, recorded.outputs.digest as string);
    expect(index.manifests[1]).toEqual({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: bare.digest,
      size: statSync(blobFile(bare.path, bare.digest)).size,
      platform: { os: 'linux', architecture: 'ppc64le' },
    });
  });

  test('pushed with push-layout to a real registry, it reads back with the merged digest', async () => {
    const registry: TestRegistry = await startRegistry();
    try {
      const buildx = untarBuildxLayout();
      const riscv = await onePlatform('linux/riscv64');
      const merged = await merge([riscv, buildx]);
      const image = `${registry.host}/merged/app`;
      const { ctx, recorded } = createTestContext(
        {
          'layout-path': merged.outputs['layout-path'] as string,
          digest: merged.outputs.digest as string,
          image,
          tags: 'sha-merged',
          'tls-verify': 'false',
        },
        { runner: new RecordingRunner() },
      );
      await pushLayout(ctx);
      expect(recorded.outputs.digest).toBe(merged.outputs.digest);
      const runner = new RecordingRunner();
      const skopeo = new Skopeo(runner, { tlsVerify: false });
      expect(await skopeo.digestOf(`${image}:sha-merged`)).toBe(merged.outputs.digest);
      const raw = runner.calls.at(-1)?.stdout ?? '';
      expect(sha256Digest(raw)).toBe(merged.outputs.digest);
      for (const child of (JSON.parse(raw) as Index).manifests)
        expect(await skopeo.digestOf(`${image}@${child.digest}`)).toBe(child.digest);
    } finally {
      await registry.stop();
    }
  });
});

describe('merge-layouts refuses', () => {
  let amd64: Awaited<ReturnType<typeof onePlatform>>;
  let arm64: Awaited<ReturnType<typeof onePlatform>>;
  beforeAll(async () => {
    amd64 = await onePlatform('linux/amd64', 'refuse');
    arm64 = await onePlatform('linux/arm64', 'refuse');
  });

  test('two inputs for one platform, naming both', async () => {
    const buildx = untarBuildxLayout();
    await expect(merge([amd64, arm64, buildx])).rejects.toThrow(
      `Inputs 1 (${amd64.path}) and 3 (${buildx.path}) both hold linux/amd64 (${amd64.platforms['linux/amd64']} and `,
    );
    await expect(merge([arm64, buildx])).rejects.toThrow(/Build each platform in exactly one job/);
  });

  test('a digest that is not the layout’s, naming the input', async () => {
    await expect(merge([amd64, { path: arm64.path, digest: amd64.digest }])).rejects.toThrow(
      `Input 2 (line 2 of layout-paths and digests, ${arm64.path}): The layout at ${arm64.path} does not hold the expected image: index.json points at ${arm64.digest}, but the "digest" input is ${amd64.digest}.`,
    );
  });

  test('the right digests in another order: the order is blamed, not a digest', async () => {
    await expect(
      merge([
        { path: amd64.path, digest: arm64.digest },
        { path: arm64.path, digest: amd64.digest },
      ]),
    ).rejects.toThrow(
      `The digests are those of the layouts, but in another order than layout-paths: line 1 of layout-paths (${amd64.path}) holds ${amd64.digest}, which is line 2 of digests; ` +
        `line 2 of layout-paths (${arm64.path}) holds ${arm64.digest}, which is line 1 of digests. Give the digests in the order of layout-paths, line for line`,
    );
  });

  test('a layer changed after the build, same size, naming the input; nothing is written', async () => {
    const tampered = await onePlatform('linux/arm64', 'tampered');
    const layout = await verifyLayout(tampered.path, tampered.digest);
    const manifest = JSON.parse(
      readFileSync(blobFile(tampered.path, tampered.platforms['linux/arm64'] as string), 'utf8'),
    );
    const layer = blobFile(tampered.path, manifest.layers[0].digest);
    const bytes = readFileSync(layer);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    writeFileSync(layer, bytes);
    expect(layout.digest).toBe(tampered.digest);
    const temp = tempDir();
    await expect(merge([amd64, tampered], temp)).rejects.toThrow(
      `Input 2 (line 2 of layout-paths and digests, ${tampered.path}): blobs/sha256/${manifest.layers[0].digest.slice(7)} does not hash to its name`,
    );
    const [mergedDir = ''] = readdirSync(temp);
    expect(readdirSync(join(temp, mergedDir))).toEqual([]);
  });

  test('a changed manifest, naming the input', async () => {
    const tampered = await onePlatform('linux/arm64', 'tampered-manifest');
    const file = blobFile(tampered.path, tampered.platforms['linux/arm64'] as string);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"schemaVersion":2', '"schemaVersion":3'));
    await expect(merge([amd64, tampered])).rejects.toThrow(
      /^Input 2 \(line 2 of layout-paths and digests, .*\): .* does not hash to its name/,
    );
  });

  test('a different number of digests and layouts', async () => {
    const { ctx } = createTestContext({ 'layout-paths': `${amd64.path}\n${arm64.path}`, digests: amd64.digest });
    await expect(main(ctx)).rejects.toThrow(
      'Input "digests": has 1 entries but layout-paths has 2; give one digest per layout, in the same order',
    );
  });

  test('a malformed digest, before anything is read', async () => {
    const { ctx } = createTestContext({ 'layout-paths': amd64.path, digests: 'sha256:ABC' });
    await expect(main(ctx)).rejects.toThrow(/^Input "digests": must be "sha256:" followed by 64 lowercase hex/);
  });
});

describe('merge-layouts across filesystems', () => {
  const shm = '/dev/shm';
  const crossDevice = existsSync(shm) && statSync(shm).dev !== statSync(tmpdir()).dev;
  // Needs a second filesystem; on CI its absence is a failure, never a silent skip.
  if (!crossDevice) skipOffCi(`${shm} is not a filesystem apart from TMPDIR (${tmpdir()}), so blobs can be linked`);
  let input: string;
  afterAll(() => {
    if (input) rmSync(input, { recursive: true, force: true });
  });
  (crossDevice ? test : test.skip)('copies the blobs it cannot link, and says so', async () => {
    input = mkdtempSync(join(shm, 'golden-image-merge-'));
    const far = await buildLayout(input, { platforms: ['linux/arm64'], seed: 'far' });
    const near = await onePlatform('linux/amd64', 'near');
    const recorded = await merge([near, far]);
    expect(recorded.logs.join('\n')).toContain(`${far.path} is on another filesystem than`);
    expect(recorded.logs.join('\n')).toContain('blobs are copied, not hard-linked');
    await verifyLayout(recorded.outputs['layout-path'] as string, recorded.outputs.digest, { layers: 'digest' });
  });
});
