import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Skopeo } from '@golden-image/oci-registry';
import {
  buildLayout,
  createTestContext,
  RecordingRunner,
  startRegistry,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { main as pushLayout } from '../../push-layout/main.js';
import { COSIGN, putDoublesOnPath, sandbox } from '../../sign-digest/test/harness.js';
import { main } from '../main.js';

let registry: TestRegistry;
let restorePath: () => void;
beforeAll(async () => {
  registry = await startRegistry();
  restorePath = putDoublesOnPath();
});
afterAll(async () => {
  restorePath?.();
  await registry?.stop();
});

const NOW = new Date('2026-11-25T23:59:59Z');

async function pushed(image: string, seed = 'promote') {
  const layout = await buildLayout(tempDir(), {
    platforms: ['linux/amd64', 'linux/arm64'],
    layerSizes: [200_000],
    seed,
  });
  const tags = `sha-${seed}`;
  const { ctx } = createTestContext({
    'layout-path': layout.path,
    digest: layout.digest,
    image,
    tags,
    'tls-verify': 'false',
  });
  await pushLayout(ctx);
  return layout.digest;
}

function promote(inputs: Record<string, string>, env?: NodeJS.ProcessEnv) {
  const runner = new RecordingRunner();
  const { ctx, recorded } = createTestContext(
    { 'tls-verify': 'false', engine: 'skopeo', 'require-signature': 'false', ...inputs },
    { runner, env },
  );
  return { run: () => main(ctx, NOW), recorded, runner };
}

describe('promote-tags against a real registry', () => {
  test('three tags including nightly-{date} move to the digest with no layer moved, and read back', async () => {
    const image = `${registry.host}/promote/app`;
    const digest = await pushed(image);
    const uploads = () => registry.requests(/"POST \/v2\/promote\/app\/blobs\/uploads\//).length;
    const before = uploads();
    const { run, recorded, runner } = promote({ image, digest, tags: 'latest\nnightly\nnightly-{date}' });
    await run();
    expect(uploads()).toBe(before);
    expect(recorded.outputs.tags).toBe([`${image}:latest`, `${image}:nightly`, `${image}:nightly-20261125`].join('\n'));
    expect(recorded.outputs.digest).toBe(digest);
    const skopeo = new Skopeo(runner, { tlsVerify: false });
    for (const tag of ['latest', 'nightly', 'nightly-20261125'])
      expect(await skopeo.digestOf(`${image}:${tag}`)).toBe(digest);
    const copies = runner.of('skopeo', 'copy');
    expect(copies.map((call) => call.args.slice(-2))).toEqual(
      ['latest', 'nightly', 'nightly-20261125'].map((tag) => [
        `docker://${image}@${digest}`,
        `docker://${image}:${tag}`,
      ]),
    );
    expect(recorded.summary).toContain('nightly-20261125');
  });

  test('rolling tags move from an older digest to a newer one', async () => {
    const image = `${registry.host}/promote/rolling`;
    const older = await pushed(image, 'old');
    await promote({ image, digest: older, tags: 'latest' }).run();
    const newer = await pushed(image, 'new');
    await promote({ image, digest: newer, tags: 'latest' }).run();
    expect(await new Skopeo(new RecordingRunner(), { tlsVerify: false }).digestOf(`${image}:latest`)).toBe(newer);
  });

  test('a digest that is not in the registry moves no tag', async () => {
    const image = `${registry.host}/promote/missing`;
    await pushed(image);
    const absent = `sha256:${'e'.repeat(64)}`;
    const { run, runner } = promote({ image, digest: absent, tags: 'latest' });
    await expect(run()).rejects.toThrow(
      `${image}@${absent} is not in the registry: push it first (push-layout). No tag was moved.`,
    );
    expect(runner.of('skopeo', 'copy')).toHaveLength(0);
  });

  test.each([
    [{ tags: 'nightly-{sha}' }, 'Input "tags": "nightly-{sha}" uses the placeholder {sha}'],
    [{ tags: 'bad tag' }, 'Input "tags": tag "bad tag" is not valid'],
    [{ engine: 'crane' }, 'Input "engine": must be one of auto, skopeo, imagetools, got "crane"'],
    [{ engine: 'imagetools' }, 'Input "engine": imagetools cannot skip TLS verification'],
    [{ digest: 'sha256:XYZ' }, 'Input "digest": must be "sha256:"'],
    [{ 'require-signature': 'true' }, 'Input "require-signature": is true, so the signer must be named'],
    [
      {
        'require-signature': 'true',
        'certificate-identity': 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main',
      },
      'needs both "certificate-identity" (or "certificate-identity-regexp") and "certificate-oidc-issuer"',
    ],
    [{ 'cosign-version': 'latest' }, 'Input "cosign-version": must be an exact release version'],
    [{ image: 'Localhost:5000/x' }, 'Input "image": must be lowercase'],
    // the traps of issue 20: each explained by name, with the fix
    [
      { tags: 'latest,sha-1a2b3c4' },
      'Input "tags": sha-1a2b3c4 is an immutable tag by the tag rule (immutable: sha-<7 to 64 hex> and full versions',
    ],
    [{ tags: 'v1.2.3,1.2.3-rc.1' }, 'or set allow-immutable-tags: true to move it anyway. No tag was moved'],
    [
      {
        'require-signature': 'true',
        'certificate-identity': 'https://github.com/octo-org/.*',
        'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
      },
      'Input "certificate-identity": "https://github.com/octo-org/.*" looks like a regular expression (it holds "*"), but certificate-identity is matched exactly (cosign --certificate-identity, Kyverno subject), so only a certificate naming literally that text would pass. Give the pattern as certificate-identity-regexp',
    ],
    [
      {
        'require-signature': 'true',
        'certificate-identity': 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main',
        'certificate-identity-regexp': '^https://github\\.com/o/.*$',
        'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
      },
      'give either certificate-identity (matched exactly) or certificate-identity-regexp (a pattern), not both',
    ],
    [
      { 'certificate-identity-regexp': '^https://(github' },
      'Input "certificate-identity-regexp": must be a regular expression',
    ],
    [
      { 'require-signature': 'true', key: '/nonexistent/cosign.pub' },
      `Input "key": the public key file "/nonexistent/cosign.pub" does not exist (looked for /nonexistent/cosign.pub): give sign-digest's public-key output`,
    ],
  ])('bad input %j is refused before any registry call', async (bad, message) => {
    const { run, runner } = promote({
      image: 'localhost:1/x',
      digest: `sha256:${'a'.repeat(64)}`,
      tags: 'latest',
      ...bad,
    });
    await expect(run()).rejects.toThrow(message);
    expect(runner.calls.filter((call) => call.args.includes('copy') || call.args.includes('inspect'))).toHaveLength(0);
  });
});

describe('promote-tags and the tag rule', () => {
  test('allow-immutable-tags: true moves an immutable-looking tag, with a warning that says what it is', async () => {
    const image = `${registry.host}/promote/immutable`;
    const digest = await pushed(image, 'immutable');
    const { run, recorded } = promote({ image, digest, tags: 'sha-abcdef0', 'allow-immutable-tags': 'true' });
    await run();
    expect(await new Skopeo(new RecordingRunner(), { tlsVerify: false }).digestOf(`${image}:sha-abcdef0`)).toBe(digest);
    expect(recorded.warnings.join('\n')).toMatch(
      /sha-abcdef0 is an immutable tag by the tag rule .*allow-immutable-tags is true/,
    );
  });
});

describe('promote-tags requires a signature by default', () => {
  async function signedSetup(repository: string) {
    const image = `${registry.host}/${repository}`;
    const digest = await pushed(image, repository.replaceAll('/', '-'));
    const box = sandbox({ COSIGN_PASSWORD: 'key-password' });
    execFileSync(COSIGN, ['generate-key-pair'], { cwd: box.dir, env: box.env, stdio: 'ignore' });
    return { image, digest, box, key: join(box.dir, 'cosign.key'), pub: join(box.dir, 'cosign.pub') };
  }

  test('a digest signed with the key is promoted after cosign verify passes', async () => {
    const { image, digest, box, key, pub } = await signedSetup('signed/app');
    execFileSync(COSIGN, ['sign', '--yes', '--key', key, `${image}@${digest}`], { env: box.env, stdio: 'ignore' });
    const { run, recorded } = promote(
      { image, digest, tags: 'latest', 'require-signature': 'true', key: pub, 'install-tools': 'false' },
      box.env,
    );
    await run();
    const verify = box.calls().find((argv) => argv[0] === 'verify');
    expect(verify).toEqual([
      'verify',
      '--key',
      pub,
      '--allow-insecure-registry',
      '--allow-http-registry',
      `${image}@${digest}`,
    ]);
    expect(await new Skopeo(new RecordingRunner(), { tlsVerify: false }).digestOf(`${image}:latest`)).toBe(digest);
    expect(recorded.summary).toContain('The signature was verified first');
  });

  test('an unsigned digest is refused and no tag moves', async () => {
    const { image, digest, box, key, pub } = await signedSetup('unsigned/app');
    const other = `sha256:${'c'.repeat(64)}`;
    execFileSync(COSIGN, ['sign', '--yes', '--key', key, `${image}@${other}`], { env: box.env, stdio: 'ignore' });
    const { run, runner } = promote(
      { image, digest, tags: 'latest,nightly', 'require-signature': 'true', key: pub, 'install-tools': 'false' },
      box.env,
    );
    await expect(run()).rejects.toThrow(`Signature check failed for ${image}@${digest}`);
    expect(runner.of('skopeo', 'copy')).toHaveLength(0);
    const skopeo = new Skopeo(new RecordingRunner(), { tlsVerify: false });
    expect(await skopeo.digestOf(`${image}:latest`)).toBeUndefined();
    expect(await skopeo.digestOf(`${image}:nightly`)).toBeUndefined();
  });

  test('certificate-identity-regexp verifies with --certificate-identity-regexp; an unanchored pattern is warned about', async () => {
    const image = `${registry.host}/regexp/app`;
    const digest = await pushed(image, 'regexp');
    const box = sandbox();
    const { run, recorded } = promote(
      {
        image,
        digest,
        tags: 'latest',
        'require-signature': 'true',
        'certificate-identity-regexp': 'https://github\\.com/octo-org/',
        'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
        'source-repository': 'octo-org/app',
        'install-tools': 'false',
      },
      box.env,
    );
    // nothing signed it: the check runs, with the pattern, and refuses
    await expect(run()).rejects.toThrow(
      /Signature check failed .*identity matching https:\/\/github\\.com\/octo-org\//s,
    );
    const verify = box.calls().find((argv) => argv[0] === 'verify') ?? [];
    expect(verify.slice(1, 5)).toEqual([
      '--certificate-identity-regexp',
      'https://github\\.com/octo-org/',
      '--certificate-oidc-issuer',
      'https://token.actions.githubusercontent.com',
    ]);
    expect(recorded.warnings.join('\n')).toMatch(/is not anchored with \^ and \$/);
  });
});
