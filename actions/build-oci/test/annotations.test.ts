// docker/metadata-action's labels and annotations reach the image with both builders, and build-oci puts the commit
// and repository (org.opencontainers.image.revision and .source) on the index and every manifest: the evidence
// push-layout reads to tell a rebuild of the same commit from another commit.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLayout } from '@golden-image/oci';
import { createTestContext, toolAvailable } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { main } from '../main.js';
import { DoublesRunner, flagValues, readDoubleLog, sampleImage } from './helpers.js';

const SHA = 'c0ffee0123456789abcdef0123456789abcdef01';
const RUNNER_ENV = { GITHUB_SHA: SHA, GITHUB_REPOSITORY: 'my-org/app', GITHUB_SERVER_URL: 'https://github.com' };
const SOURCE = 'https://github.com/my-org/app';

// As docker/metadata-action v5 writes them (annotations at the manifest and index levels, labels as KEY=VALUE).
const META_LABELS = 'org.opencontainers.image.title=app\norg.opencontainers.image.version=1.2.3';
const META_ANNOTATIONS = [
  'manifest:org.opencontainers.image.title=app',
  'index:org.opencontainers.image.title=app',
  'manifest-descriptor:org.opencontainers.image.version=1.2.3',
].join('\n');

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of ['GITHUB_SHA', 'GITHUB_REPOSITORY', 'GITHUB_SERVER_URL', 'ACTIONS_RUNTIME_TOKEN'])
    delete base[name];
  return { ...base, GITHUB_WORKSPACE: sampleImage, ...extra };
}

const blob = (layout: string, digest: string) =>
  JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8'));

describe('with buildah, for real', () => {
  if (!toolAvailable('buildah')) {
    test.skip('buildah is not installed here', () => {});
    return;
  }
  test('labels, typed annotations and the commit reach the index, every manifest and every config', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'build-oci-annotations-'));
    const { ctx, recorded } = createTestContext(
      {
        builder: 'buildah',
        context: sampleImage,
        platforms: 'linux/amd64,linux/arm64',
        labels: META_LABELS,
        annotations: META_ANNOTATIONS,
        provenance: 'false',
        sbom: 'false',
      },
      { runner: new DoublesRunner(), tempDir: temp, env: env({ ...RUNNER_ENV, SOURCE_DATE_EPOCH: '0' }) },
    );
    await main(ctx);
    const path = recorded.outputs['layout-path'] as string;
    const layout = await verifyLayout(path, recorded.outputs.digest, { layers: 'digest' });
    expect(layout.annotations).toMatchObject({
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.source': SOURCE,
      'org.opencontainers.image.title': 'app',
    });
    const index = blob(path, layout.digest) as { manifests: { digest: string; annotations?: object }[] };
    expect(index.manifests).toHaveLength(2);
    for (const descriptor of index.manifests) {
      expect(descriptor.annotations).toEqual({ 'org.opencontainers.image.version': '1.2.3' });
      const manifest = blob(path, descriptor.digest);
      expect(manifest.annotations).toMatchObject({
        'org.opencontainers.image.revision': SHA,
        'org.opencontainers.image.source': SOURCE,
        'org.opencontainers.image.title': 'app',
      });
      const config = blob(path, manifest.config.digest);
      expect(config.config.Labels).toMatchObject({
        'org.opencontainers.image.title': 'app',
        'org.opencontainers.image.version': '1.2.3',
      });
    }
    rmSync(temp, { recursive: true, force: true });
  });

  test('off a runner nothing is invented: no revision, no source', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'build-oci-annotations-'));
    const { ctx, recorded } = createTestContext(
      { builder: 'buildah', context: sampleImage, provenance: 'false', sbom: 'false' },
      { runner: new DoublesRunner(), tempDir: temp, env: env() },
    );
    await main(ctx);
    const layout = await verifyLayout(recorded.outputs['layout-path'] as string, recorded.outputs.digest);
    expect(layout.annotations['org.opencontainers.image.revision']).toBeUndefined();
    rmSync(temp, { recursive: true, force: true });
  });
});

describe('with buildx (the docker double checks the flags against buildx v0.36)', () => {
  function build(inputs: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'build-oci-annotations-buildx-'));
    const log = join(dir, 'docker.log');
    const { ctx } = createTestContext(
      { 'cache-from': 'none', 'cache-to': 'none', ...inputs },
      { runner: new DoublesRunner(), tempDir: join(dir, 'temp'), env: env({ ...RUNNER_ENV, DOCKER_DOUBLE_LOG: log }) },
    );
    return { run: () => main(ctx), argv: () => readDoubleLog(log).at(-1)?.argv ?? [] };
  }

  test('the commit goes on every manifest and on the index when buildx writes one', async () => {
    const { run, argv } = build({ platforms: 'linux/amd64,linux/arm64', labels: META_LABELS });
    await run();
    expect(flagValues(argv(), '--annotation')).toEqual([
      `manifest:org.opencontainers.image.revision=${SHA}`,
      `index:org.opencontainers.image.revision=${SHA}`,
      `manifest:org.opencontainers.image.source=${SOURCE}`,
      `index:org.opencontainers.image.source=${SOURCE}`,
    ]);
    expect(flagValues(argv(), '--label')).toEqual(META_LABELS.split('\n'));
  });

  test('one platform without attestations is a bare manifest: no index annotations (BuildKit refuses them)', async () => {
    const { run, argv } = build({ provenance: 'false', sbom: 'false' });
    await run();
    expect(flagValues(argv(), '--annotation')).toEqual([
      `manifest:org.opencontainers.image.revision=${SHA}`,
      `manifest:org.opencontainers.image.source=${SOURCE}`,
    ]);
  });

  test("metadata-action's own revision annotation wins and is not repeated at a level it covers", async () => {
    const { run, argv } = build({
      platforms: 'linux/amd64,linux/arm64',
      annotations: `manifest:org.opencontainers.image.revision=${'b'.repeat(40)}`,
    });
    await run();
    expect(flagValues(argv(), '--annotation')).toEqual([
      `manifest:org.opencontainers.image.revision=${'b'.repeat(40)}`,
      `index:org.opencontainers.image.revision=${'b'.repeat(40)}`,
      `manifest:org.opencontainers.image.source=${SOURCE}`,
      `index:org.opencontainers.image.source=${SOURCE}`,
    ]);
  });
});
