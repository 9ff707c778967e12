// build-oci's buildx path against a real BuildKit: buildkitd and buildx built from their Go modules, the docker CLI
// client (no engine), buildx's remote driver on a private socket, no network. The layouts then go through
// merge-layouts, scan-layout (the real Trivy, offline DB) and push-layout (the real registry).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ExecRunner, type RunOptions, type ToolRunner, UserError } from '@golden-image/kit';
import { sha256Digest, verifyLayout } from '@golden-image/oci';
import { Skopeo } from '@golden-image/oci-registry';
import {
  alpineFiles,
  createTestContext,
  pathDirFor,
  pushTrivyDbArtifact,
  RecordingRunner,
  realTool,
  SAMPLE_MUSL,
  startBuildkit,
  startRegistry,
  type TestBuildkit,
  type TestRegistry,
  toolAvailable,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { main as mergeLayouts } from '../../merge-layouts/main.js';
import { main as pushLayout } from '../../push-layout/main.js';
import { main as scanLayout } from '../../scan-layout/main.js';
import { main } from '../main.js';

const buildkitd = realTool('buildkitd');
const buildx = realTool('docker-buildx', ['version']);
const trivy = realTool('trivy');
const ready = buildkitd && buildx && trivy && toolAvailable('docker');
const maybe = ready ? describe : describe.skip;

/** A FROM scratch image whose files differ per platform: Alpine-like, musl vulnerable on linux/arm64 only. */
const PER_PLATFORM = ['FROM scratch', 'ARG TARGETARCH', 'COPY rootfs-$' + '{TARGETARCH}/ /', ''].join('\n');

function sampleContext(dockerfile = PER_PLATFORM): string {
  const dir = mkdtempSync(join(tmpdir(), 'buildkit-context-'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  for (const [platform, musl] of [
    ['linux/amd64', SAMPLE_MUSL.fixed],
    ['linux/arm64', SAMPLE_MUSL.vulnerable],
  ] as const) {
    for (const [path, text] of Object.entries(alpineFiles(platform, { musl }))) {
      const file = join(dir, `rootfs-${platform.split('/')[1]}`, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
  return dir;
}

/** The real tools, with their progress output kept out of the test log. */
const quiet: ToolRunner = {
  run: (tool: string, args: readonly string[], options?: RunOptions) =>
    new ExecRunner().run(tool, args, { ...options, silent: true }),
};

maybe('build-oci with the real BuildKit (remote driver, no network)', () => {
  let buildkit: TestBuildkit;
  let registry: TestRegistry;
  let savedPath: string | undefined;
  let context: string;

  beforeAll(async () => {
    savedPath = process.env.PATH;
    process.env.PATH = `${pathDirFor({ trivy: trivy as string })}:${savedPath}`;
    [buildkit, registry] = await Promise.all([
      startBuildkit({ buildkitd: buildkitd as string, buildx: buildx as string }),
      startRegistry(),
    ]);
    context = sampleContext();
  });

  afterAll(async () => {
    process.env.PATH = savedPath;
    await Promise.all([buildkit?.stop(), registry?.stop()]);
  });

  /** build-oci through the docker CLI and the real buildx, as on a runner after docker/setup-buildx-action. */
  async function build(inputs: Record<string, string>, buildContext = context) {
    const { ctx, recorded } = createTestContext(
      { context: buildContext, 'cache-from': 'none', 'cache-to': 'none', sbom: 'false', ...inputs },
      { env: { ...process.env, ...buildkit.env, SOURCE_DATE_EPOCH: '0' }, runner: quiet },
    );
    const error = await main(ctx).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    return { error, recorded };
  }

  async function push(layoutPath: string, digest: string, repository: string) {
    const image = `${registry.host}/${repository}`;
    const { ctx, recorded } = createTestContext(
      { 'layout-path': layoutPath, digest, image, tags: 'sha-buildkit', 'tls-verify': 'false' },
      { runner: new RecordingRunner() },
    );
    await pushLayout(ctx);
    expect(recorded.outputs.digest).toBe(digest);
    // Read back independently: the index bytes in the registry hash to the digest, and every child is there.
    const runner = new RecordingRunner();
    const skopeo = new Skopeo(runner, { tlsVerify: false });
    expect(await skopeo.digestOf(`${image}:sha-buildkit`)).toBe(digest);
    const raw = runner.calls.at(-1)?.stdout ?? '';
    expect(sha256Digest(raw)).toBe(digest);
    const children = (JSON.parse(raw) as { manifests: { digest: string }[] }).manifests;
    for (const child of children) expect(await skopeo.digestOf(`${image}@${child.digest}`)).toBe(child.digest);
    return children;
  }

  async function scan(layoutPath: string, digest: string) {
    const tempDir = mkdtempSync(join(tmpdir(), 'buildkit-scan-'));
    // The project's DB, pulled by digest from the test registry.
    const mirror = await pushTrivyDbArtifact(registry, 'mirror/trivy-db');
    const { ctx, recorded } = createTestContext(
      { 'layout-path': layoutPath, digest, 'install-tools': 'false', 'db-repository': mirror },
      { env: { ...process.env, GITHUB_WORKSPACE: tempDir }, tempDir, runner: quiet },
    );
    const error = await scanLayout(ctx).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    return { error, recorded };
  }

  test('two platforms with provenance: the metadata digest is the layout’s; pushed, read back, and scanned per platform', async () => {
    const { error, recorded } = await build({ platforms: 'linux/amd64,linux/arm64', provenance: 'mode=max' });
    expect(error).toBeUndefined();
    const layoutPath = recorded.outputs['layout-path'] as string;
    const digest = recorded.outputs.digest as string;
    const metadata = JSON.parse(recorded.outputs.metadata as string) as Record<string, unknown>;
    expect(metadata['containerimage.digest']).toBe(digest);
    const layout = await verifyLayout(layoutPath, digest, { layers: 'digest' });
    const platforms = JSON.parse(recorded.outputs.platforms as string) as Record<string, string>;
    expect(Object.keys(platforms).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    // One provenance attestation manifest per platform, each naming the image it describes.
    const attestations = layout.manifests.filter((m) => m.attestation);
    expect(attestations.map((m) => m.subject).sort()).toEqual(Object.values(platforms).sort());
    const image = layout.manifests.find((m) => m.platform === 'linux/arm64');
    const manifest = JSON.parse(readFileSync(join(layoutPath, 'blobs/sha256', (image?.digest ?? '').slice(7)), 'utf8'));
    const config = JSON.parse(readFileSync(join(layoutPath, 'blobs/sha256', manifest.config.digest.slice(7)), 'utf8'));
    expect(config).toMatchObject({ architecture: 'arm64', os: 'linux' });

    const children = await push(layoutPath, digest, 'buildkit/two');
    expect(children).toHaveLength(4);

    // Trivy on each platform of BuildKit's own layout: the vulnerable musl is in linux/arm64 only.
    const scanned = await scan(layoutPath, digest);
    expect(scanned.error).toBeInstanceOf(UserError);
    expect(scanned.error?.message).toMatch(/1 finding\(s\) at HIGH,CRITICAL in sha256:[0-9a-f]{64} \(linux\/arm64\)/);
    expect(JSON.parse(scanned.recorded.outputs.findings as string)).toMatchObject({
      'linux/amd64': { CRITICAL: 0 },
      'linux/arm64': { CRITICAL: 1 },
    });
  });

  test('one build per platform, merged by merge-layouts, pushed and read back with the merged digest, scanned', async () => {
    const amd64 = await build({ platforms: 'linux/amd64', provenance: 'mode=max' });
    const arm64 = await build({ platforms: 'linux/arm64', provenance: 'mode=max' });
    expect(amd64.error ?? arm64.error).toBeUndefined();
    const { ctx, recorded } = createTestContext({
      'layout-paths': `${arm64.recorded.outputs['layout-path']}\n${amd64.recorded.outputs['layout-path']}`,
      digests: `${arm64.recorded.outputs.digest}\n${amd64.recorded.outputs.digest}`,
    });
    await mergeLayouts(ctx);
    const digest = recorded.outputs.digest as string;
    const merged = await verifyLayout(recorded.outputs['layout-path'] as string, digest, { layers: 'digest' });
    // Every platform manifest and attestation is BuildKit's, unchanged: the same digests the per-platform builds had.
    const built = await Promise.all(
      [amd64, arm64].map((b) => verifyLayout(b.recorded.outputs['layout-path'] as string, b.recorded.outputs.digest)),
    );
    expect(merged.manifests.map((m) => m.digest).sort()).toEqual(
      built.flatMap((b) => b.manifests.map((m) => m.digest)).sort(),
    );
    expect(merged.manifests.filter((m) => m.attestation)).toHaveLength(2);
    expect(JSON.parse(recorded.outputs.platforms as string)).toEqual({
      ...JSON.parse(amd64.recorded.outputs.platforms as string),
      ...JSON.parse(arm64.recorded.outputs.platforms as string),
    });
    const children = await push(merged.path, digest, 'buildkit/merged');
    expect(children).toHaveLength(4);
    // The merged layout is what the release job scans: every platform, the finding still in linux/arm64 alone.
    const scanned = await scan(merged.path, digest);
    expect(scanned.error?.message).toMatch(/1 finding\(s\) at HIGH,CRITICAL in sha256:[0-9a-f]{64} \(linux\/arm64\)/);
  });

  test('build-contexts, no-cache and pull reach the real BuildKit: COPY --from a named local context', async () => {
    const extra = mkdtempSync(join(tmpdir(), 'buildkit-extra-'));
    writeFileSync(join(extra, 'note.txt'), 'from the named context\n');
    const dir = mkdtempSync(join(tmpdir(), 'buildkit-contexts-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY --from=extra note.txt /note.txt\n');
    const { error, recorded } = await build(
      { 'build-contexts': `extra=${extra}`, 'no-cache': 'true', pull: 'true', provenance: 'false' },
      dir,
    );
    expect(error).toBeUndefined();
    const layoutPath = recorded.outputs['layout-path'] as string;
    const digest = Object.values(JSON.parse(recorded.outputs.platforms as string))[0] as string;
    const manifest = JSON.parse(readFileSync(join(layoutPath, 'blobs/sha256', digest.slice(7)), 'utf8'));
    const layer = join(layoutPath, 'blobs/sha256', manifest.layers[0].digest.slice(7));
    expect(execFileSync('tar', ['-xzOf', layer, 'note.txt'], { encoding: 'utf8' })).toBe('from the named context\n');
  });

  test('an SBOM attestation needs the scanner image, which this builder cannot pull: the error says so', async () => {
    const { error } = await build({ platforms: 'linux/amd64', sbom: 'true' });
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toContain(
      "The SBOM attestation runs BuildKit's scanner image docker.io/docker/buildkit-syft-scanner:stable-1, which the builder could not pull (the builder cannot reach that registry).",
    );
    expect(error?.message).toMatch(/or set sbom: false\.$/);
  });

  test('a # syntax= line needs its frontend image, which this builder cannot pull: the error says so', async () => {
    const withSyntax = sampleContext('# syntax=docker/dockerfile:1\nFROM scratch\nCOPY rootfs-amd64/ /\n');
    const { error } = await build({ platforms: 'linux/amd64' }, withSyntax);
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toContain(
      `The Dockerfile's "# syntax=docker/dockerfile:1" line makes BuildKit pull that frontend image (docker.io/docker/dockerfile:1), which the builder could not pull`,
    );
  });
});
