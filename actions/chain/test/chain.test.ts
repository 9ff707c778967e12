// The root action runs the six actions' own code in one step. Here: buildah for real, the scanners and cosign as
// doubles (install-tools: false), skopeo and the registry for real.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Skopeo } from '@golden-image/oci-registry';
import {
  createTestContext,
  RecordingRunner,
  repoRoot,
  startRegistry,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readInvocations, useDoublesOnPath } from '../../../test/doubles/lib/harness.js';
import { recording } from '../../../test/doubles/recordings.js';
import { main } from '../main.js';

let registry: TestRegistry;
let restorePath: () => void;
beforeAll(async () => {
  registry = await startRegistry();
  restorePath = useDoublesOnPath();
});
afterAll(async () => {
  restorePath?.();
  await registry?.stop();
});

function chain(inputs: Record<string, string>, trivyFixture = recording('trivy', 'alpine-amd64-clean')) {
  const dir = tempDir('golden-image-chain-');
  const keyDir = mkdtempSync(join(dir, 'key-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GITHUB_WORKSPACE: repoRoot,
    DOUBLE_LOG: join(dir, 'doubles.log'),
    COSIGN_DOUBLE_LOG: join(dir, 'cosign.log'),
    COSIGN_DOUBLE_STATE: join(dir, 'cosign-state'),
    COSIGN_PASSWORD: 'chain-test',
    TRIVY_DOUBLE_FIXTURE: trivyFixture,
    OSV_DOUBLE_FIXTURE: recording('osv-scanner', 'npm-clean'),
    SYFT_DOUBLE_FIXTURE: recording('syft', 'alpine-amd64'),
  };
  delete env.ACTIONS_ID_TOKEN_REQUEST_URL;
  delete env.ACTIONS_RUNTIME_TOKEN;
  execFileSync(join(repoRoot, 'test/doubles/bin/cosign'), ['generate-key-pair'], { cwd: keyDir, env, stdio: 'ignore' });
  const runner = new RecordingRunner();
  const { ctx, recorded } = createTestContext(
    {
      context: 'test/fixtures/sample-image',
      platforms: 'linux/amd64,linux/arm64',
      builder: 'buildah',
      tags: 'sha-c4a1b2c',
      'rolling-tags': 'latest,nightly-{date}',
      key: join(keyDir, 'cosign.key'),
      'tls-verify': 'false',
      'install-tools': 'false',
      ...inputs,
    },
    { runner, env, tempDir: dir },
  );
  return { run: () => main(ctx), recorded, runner, calls: () => readInvocations(env.DOUBLE_LOG as string), env };
}

const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');

describe('the root action: the whole chain in one step', () => {
  test('gates, builds two platforms with buildah, scans each, pushes, signs, promotes; every tag reads back', async () => {
    const image = `${registry.host}/chain/sample`;
    const { run, recorded, runner, calls } = chain({ image });
    await run();
    const digest = recorded.outputs.digest ?? '';
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(recorded.outputs['image-ref']).toBe(`${image}@${digest}`);
    expect(Object.keys(JSON.parse(recorded.outputs.platforms ?? '{}'))).toEqual(['linux/amd64', 'linux/arm64']);
    expect(recorded.outputs.tags?.split('\n')).toEqual([
      `${image}:sha-c4a1b2c`,
      `${image}:latest`,
      `${image}:nightly-${today}`,
    ]);
    expect(existsSync(recorded.outputs['kyverno-policy'] ?? '')).toBe(true);
    expect(recorded.outputs['verify-command']).toMatch(/^cosign verify --key /);

    const skopeo = new Skopeo(new RecordingRunner(), { tlsVerify: false });
    for (const ref of recorded.outputs.tags?.split('\n') ?? []) expect(await skopeo.digestOf(ref)).toBe(digest);

    // Trivy scanned each platform of the layout that was pushed, once each, after one DB download (scan-layout finds
    // the DB scan-repo fetched current, so it starts no second download; its platforms are scanned at once).
    const trivy = calls().filter((call) => call.tool === 'trivy');
    expect(trivy.map((call) => call.mode)).toEqual(['download-db', 'scan', 'scan', 'scan'].slice(-trivy.length));
    expect(
      trivy
        .filter((call) => call.mode === 'scan' && call.platform)
        .map((call) => call.platform)
        .sort(),
    ).toEqual(['linux/amd64', 'linux/arm64']);
    // The order of the chain: build, then push, then tag.
    const order = runner.calls.map(
      (call) => `${call.tool.split('/').pop()} ${call.args.find((a) => ['build', 'copy'].includes(a)) ?? ''}`,
    );
    expect(order.indexOf('buildah build')).toBeLessThan(order.indexOf('skopeo copy'));
    expect(recorded.summary).toContain(
      'scan-repo → build-oci → scan-layout → push-layout → sign-digest → attest-evidence → promote-tags',
    );
    // the policy also requires the SBOM and the scan result, which promote-tags checked before moving a tag
    expect(readFileSync(recorded.outputs['kyverno-policy'] ?? '', 'utf8')).toContain(
      'type: https://cosign.sigstore.dev/attestation/vuln/v1',
    );
  });

  test('a failing image gate stops the chain: nothing is pushed, signed or tagged', async () => {
    const image = `${registry.host}/chain/vulnerable`;
    const { run, env } = chain({ image, 'scan-repo': 'false' }, recording('trivy', 'alpine-all-severities'));
    await expect(run()).rejects.toThrow(
      /4 finding\(s\) at HIGH,CRITICAL in sha256:[0-9a-f]+ \(linux\/amd64, linux\/arm64\)/,
    );
    const skopeo = new Skopeo(new RecordingRunner(), { tlsVerify: false });
    for (const tag of ['sha-c4a1b2c', 'latest', `nightly-${today}`])
      expect(await skopeo.digestOf(`${image}:${tag}`)).toBeUndefined();
    const cosignCalls = readFileSync(env.COSIGN_DOUBLE_LOG as string, 'utf8');
    expect(cosignCalls).toContain('generate-key-pair');
    expect(cosignCalls).not.toMatch(/"sign"|"verify"/);
  });

  test.each([
    [{ 'rolling-tags': 'nightly-{sha}' }, 'Input "rolling-tags": "nightly-{sha}" uses the placeholder {sha}'],
    [
      { 'rolling-tags': 'ghcr.io/other/app:latest' },
      'Input "rolling-tags": "ghcr.io/other/app:latest" names another image',
    ],
    [{ severity: 'HIGHEST' }, 'scan-layout: Input "severity"'],
    [{ platforms: 'linux' }, 'build-oci: Input "platforms"'],
    [{ key: '' }, 'permissions: id-token: write'],
  ])('bad input %j is refused before anything runs', async (bad, message) => {
    const { run, runner, calls } = chain({ image: `${registry.host}/chain/never`, ...bad });
    await expect(run()).rejects.toThrow(message);
    expect(runner.calls).toHaveLength(0);
    expect(calls()).toHaveLength(0);
  });
});
