// The root action runs the six actions' own code in one step. Here: buildah for real, the scanners and cosign as
// doubles (install-tools: false), skopeo and the registry for real.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Skopeo } from '@golden-image/oci-registry';
import {
  createTestContext,
  doubleTrivyDbFiles,
  type PushedTrivyDb,
  pushTrivyDbFiles,
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
import { plan, type Release } from '../plan.js';

let registry: TestRegistry;
let restorePath: () => void;
// The DB the doubles take, served as Trivy's artifact: scan-repo and scan-layout pull it by digest.
let db: PushedTrivyDb;
beforeAll(async () => {
  registry = await startRegistry();
  db = await pushTrivyDbFiles(registry, 'mirror/trivy-db', doubleTrivyDbFiles());
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
      'db-repository': db.ref,
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
    const { run, recorded, runner, calls, env } = chain({ image });
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

    // Trivy scanned each platform of the layout that was pushed, once each, and downloaded nothing: the DB was pulled
    // by digest once (scan-layout resolved the tag again and took the copy scan-repo kept, after hashing it).
    const trivy = calls().filter((call) => call.tool === 'trivy');
    expect(trivy.map((call) => call.mode)).toEqual(['scan', 'scan', 'scan']);
    expect(
      runner.of('skopeo', 'copy').filter((call) => call.args.some((a) => a.includes('/mirror/trivy-db@'))),
    ).toHaveLength(1);
    expect(recorded.outputs['db-digest']).toBe(db.digest);
    expect(
      trivy
        .filter((call) => call.mode === 'scan' && call.platform)
        .map((call) => call.platform)
        .sort(),
    ).toEqual(['linux/amd64', 'linux/arm64']);
    // The order of the chain: build, then push, then tag.
    const order = runner.calls
      .filter((call) => !call.args.some((a) => a.includes('/mirror/trivy-db')))
      .map((call) => `${call.tool.split('/').pop()} ${call.args.find((a) => ['build', 'copy'].includes(a)) ?? ''}`);
    expect(order.indexOf('buildah build')).toBeLessThan(order.indexOf('skopeo copy'));
    expect(recorded.summary).toContain(
      'scan-repo → build-oci → scan-layout → push-layout → sign-digest → attest-evidence → promote-tags',
    );
    // The race guard's window passes while the digest is signed, attested and verified (all by digest): push-layout's
    // tags are read back inside promote-tags, after its checks and before its first tag moves.
    const banners = recorded.logs.filter((line) => line.startsWith('\n━━ '));
    expect(banners.map((line) => line.trim())).toEqual([
      '━━ scan-repo ━━',
      '━━ build-oci ━━',
      '━━ scan-layout ━━',
      '━━ push-layout ━━',
      '━━ sign-digest ━━',
      '━━ attest-evidence ━━',
      '━━ promote-tags ━━',
      '━━ push-layout: read every tag back ━━',
    ]);
    const log = recorded.logs.join('\n');
    expect(log.indexOf('━━ push-layout: read every tag back ━━')).toBeLessThan(log.indexOf(' -> sha256:'));
    expect(recorded.logs.join('\n')).not.toContain('Waiting 1500 ms before reading the new tags back');
    expect(recorded.summary).toMatch(/\| push-layout \(read-back\) \| \d+\.\d\d \|/);
    // the policy also requires the SBOM and the scan result, which promote-tags checked before moving a tag
    expect(readFileSync(recorded.outputs['kyverno-policy'] ?? '', 'utf8')).toContain(
      'type: https://cosign.sigstore.dev/attestation/vuln/v1',
    );
    // a key with the transparency log (the default): a ClusterPolicy (an ImageValidatingPolicy cannot be checked offline)
    expect(recorded.outputs['kyverno-policy-kind']).toBe('ClusterPolicy');
    // signed: the index and its two platform manifests by name, one cosign each (not the attestation manifests)
    const cosign = readFileSync(env.COSIGN_DOUBLE_LOG as string, 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { argv: string[] }).argv);
    const sign = cosign.filter((argv) => argv[0] === 'sign');
    expect(sign.flat()).not.toContain('--recursive');
    const platforms = Object.values(JSON.parse(recorded.outputs.platforms ?? '{}')) as string[];
    expect(sign.map((argv) => argv.at(-1)).sort()).toEqual([digest, ...platforms].map((d) => `${image}@${d}`).sort());
    // the public key derived once, by sign-digest; attest-evidence was handed it
    expect(cosign.filter((argv) => argv[0] === 'public-key')).toHaveLength(1);
  });

  test('rolling-tags that look immutable are moved as rolling tags, as rolling-tags says, with a warning; a key without a log and without attestations: an ImageValidatingPolicy', async () => {
    const image = `${registry.host}/chain/rolling-immutable`;
    const { run, recorded } = chain({
      image,
      'rolling-tags': 'v9.9.9',
      'scan-repo': 'false',
      attest: 'false',
      'transparency-log': 'false',
    });
    await run();
    expect(recorded.outputs['kyverno-policy-kind']).toBe('ImageValidatingPolicy');
    expect(recorded.warnings.join('\n')).toMatch(/rolling-tags holds v9\.9\.9, which the tag rule calls immutable/);
    const skopeo = new Skopeo(new RecordingRunner(), { tlsVerify: false });
    expect(await skopeo.digestOf(`${image}:v9.9.9`)).toBe(recorded.outputs.digest);
  });

  test('a failing image gate stops the chain: nothing is pushed, signed or tagged', async () => {
    const image = `${registry.host}/chain/vulnerable`;
    const { run, env } = chain({ image, 'scan-repo': 'false' }, recording('trivy', 'alpine-all-severities'));
    await expect(run()).rejects.toThrow(
      /4 finding\(s\) at HIGH,CRITICAL in localhost:\d+\/chain\/vulnerable@sha256:[0-9a-f]+ \(linux\/amd64, linux\/arm64\)/,
    );
    const skopeo = new Skopeo(new RecordingRunner(), { tlsVerify: false });
    for (const tag of ['sha-c4a1b2c', 'latest', `nightly-${today}`])
      expect(await skopeo.digestOf(`${image}:${tag}`)).toBeUndefined();
    const cosignCalls = readFileSync(env.COSIGN_DOUBLE_LOG as string, 'utf8');
    expect(cosignCalls).toContain('generate-key-pair');
    expect(cosignCalls).not.toMatch(/"sign"|"verify"/);
  });

  test('the inputs users reach for reach their steps; reports and a verify-command for every image come out', async () => {
    const images = [`${registry.host}/chain/inputs-a`, `${registry.host}/chain/inputs-b`];
    const dir = tempDir('golden-image-chain-inputs-');
    writeFileSync(join(dir, 'token.txt'), 'file secret');
    writeFileSync(join(dir, '.trivyignore'), 'CVE-2099-0001\n');
    const { run, recorded, runner, calls } = chain({
      image: images.join('\n'),
      'secret-files': `token=${join(dir, 'token.txt')}`,
      'build-contexts': `extra=${join(repoRoot, 'test/fixtures/sample-image/etc')}`,
      'no-cache': 'true',
      severity: 'high,critical',
      scanners: 'vuln,secret',
      'skip-dirs': '**/testdata',
      trivyignores: join(dir, '.trivyignore'),
      'scan-repo-path': 'test/fixtures/repos/npm-clean',
      'block-uncalled': 'false',
      'transparency-log': 'false',
    });
    await run();
    const build = runner.calls.find((call) => call.tool.endsWith('buildah') && call.args.includes('build'));
    expect(build?.args).toEqual(
      expect.arrayContaining([
        '--secret',
        `id=token,src=${join(dir, 'token.txt')}`,
        '--build-context',
        `extra=${join(repoRoot, 'test/fixtures/sample-image/etc')}`,
        '--no-cache',
      ]),
    );
    const trivy = calls().filter((call) => call.tool === 'trivy' && call.mode === 'scan');
    const image = trivy.filter((call) => call.command === 'image');
    expect(image).toHaveLength(2);
    for (const scan of image)
      expect(scan.argv).toEqual(expect.arrayContaining(['--scanners', 'vuln,secret', '--skip-dirs', '**/testdata']));
    const fs = trivy.find((call) => call.command === 'fs');
    expect(fs?.argv.at(-1)).toBe(join(repoRoot, 'test/fixtures/repos/npm-clean'));
    expect(fs?.argv).toEqual(expect.arrayContaining(['--skip-dirs', '**/testdata']));
    // reports of both scans, as outputs
    for (const name of ['scan-repo-trivy-report', 'scan-repo-osv-report', 'scan-layout-report', 'scan-layout-sarif'])
      expect(existsSync(recorded.outputs[name] ?? '')).toBe(true);
    expect(JSON.parse(readFileSync(recorded.outputs['scan-layout-report'] ?? '', 'utf8')).image).toBe(images[0]);
    // one verify command per image, and the signing step was told there is no transparency log
    const verify = (recorded.outputs['verify-command'] ?? '').split('\n');
    expect(verify).toHaveLength(2);
    for (const [i, line] of verify.entries()) {
      expect(line).toContain(`${images[i]}@${recorded.outputs.digest}`);
      expect(line).toContain('--insecure-ignore-tlog');
    }
    expect(recorded.outputs.tags?.split('\n')).toEqual(
      expect.arrayContaining([`${images[0]}:sha-c4a1b2c`, `${images[1]}:sha-c4a1b2c`, `${images[1]}:latest`]),
    );
    // no transparency log and the evidence required, legacy signatures: the ClusterPolicy (Kyverno's
    // ImageValidatingPolicy refuses every unlogged legacy attestation)
    expect(recorded.outputs['kyverno-policy-kind']).toBe('ClusterPolicy');
  });

  test('attest: false signs and promotes without attestations (no attest-evidence step, nothing required)', () => {
    const release: Release = {
      images: ['ghcr.io/o/app'],
      immutable: ['sha-1a2b3c4'],
      rolling: ['latest'],
      push: true,
      scanRepo: false,
      sign: true,
      attest: false,
      key: '/k/cosign.key',
      build: {},
      gates: {},
      scanners: {},
      registry: {},
      tools: {},
      allowOverwrite: false,
    };
    expect(plan(release).map((step) => step.name)).toEqual([
      'build-oci',
      'scan-layout',
      'push-layout',
      'sign-digest',
      'promote-tags',
    ]);
    const promote = plan(release).find((step) => step.name === 'promote-tags');
    expect(promote?.inputs({})['require-attestations']).toBeUndefined();
    expect(plan({ ...release, attest: true }).map((step) => step.name)).toContain('attest-evidence');
    // the race guard's window reaches push-layout when given (a concurrency group serialises releases)
    const push = plan({ ...release, tagRaceWindowMs: '0' }).find((step) => step.name === 'push-layout');
    expect(push?.inputs({})['tag-race-window-ms']).toBe('0');
    expect(
      plan(release)
        .find((step) => step.name === 'push-layout')
        ?.inputs({})['tag-race-window-ms'],
    ).toBeUndefined();
  });

  test('builder set to a setup-buildx-action builder name: what builder means here, before anything runs', async () => {
    const { run, runner } = chain({ image: `${registry.host}/chain/never`, builder: 'builder-3f2a' });
    await expect(run()).rejects.toThrow(
      'build-oci: Input "builder": must be buildx or buildah, got "builder-3f2a". Here builder picks the build tool, not a buildx builder instance',
    );
    expect(runner.calls).toHaveLength(0);
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
    [{ key: '/nonexistent/cosign.key' }, 'Input "key": the private key file "/nonexistent/cosign.key" does not exist'],
    [{ 'kyverno-policy-kind': 'Policy' }, 'Input "kyverno-policy-kind": must be one of auto, ImageValidatingPolicy'],
    [
      { 'kyverno-policy-kind': 'ImageValidatingPolicy', 'transparency-log': 'false' },
      'Input "kyverno-policy-kind": ImageValidatingPolicy cannot be written here. Kyverno 1.19\'s ImageValidatingPolicy refuses every legacy attestation',
    ],
  ])('bad input %j is refused before anything runs', async (bad, message) => {
    const { run, runner, calls } = chain({ image: `${registry.host}/chain/never`, ...bad });
    await expect(run()).rejects.toThrow(message);
    expect(runner.calls).toHaveLength(0);
    expect(calls()).toHaveLength(0);
  });
});
