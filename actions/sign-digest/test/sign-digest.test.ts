import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import { Cosign, verifySignature } from '@golden-image/signing';
import { createTestContext, everythingPrinted } from '@golden-image/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import {
  directClaims,
  reusableClaims,
  startTokenServer,
  type TokenServer,
} from '../../../test/fixtures/signing/oidc.js';
import { digest, image, otherDigest, putDoublesOnPath, runSignDigest, type Sandbox, sandbox } from './harness.js';

const ISSUER = 'https://token.actions.githubusercontent.com';
const DIRECT = 'https://github.com/octo-org/app/.github/workflows/release.yml@refs/heads/main';
const REUSABLE = 'https://github.com/octo-org/shared-workflows/.github/workflows/sign.yml@refs/tags/v1.2.0';
const ref = `${image}@${digest}`;
/** The verify flags for an identity signed from octo-org/app (the repository in the crafted tokens). */
const bound = (identity: string) => [
  '--certificate-identity',
  identity,
  '--certificate-oidc-issuer',
  ISSUER,
  '--certificate-github-workflow-repository',
  'octo-org/app',
];

let restorePath: () => void;
let server: TokenServer | undefined;
beforeAll(() => {
  restorePath = putDoublesOnPath();
});
afterAll(() => restorePath());
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function keyless(claims = directClaims(), version = '2.6.5'): Promise<Sandbox> {
  server = await startTokenServer(claims);
  return sandbox(server.env, version);
}

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML
const keylessEntry = (policy: any) => policy.spec.rules[0].verifyImages[0].attestors[0].entries[0];

/** Runs a printed command through a real shell, with the double on PATH and the same "registry". */
function runPasted(command: string, box: Sandbox) {
  return spawnSync('sh', ['-c', command], { env: box.env, encoding: 'utf8' });
}

describe('keyless signing (GitHub OIDC)', () => {
  test('direct workflow, cosign v2: signs by digest, verifies with exactly the token identity, writes outputs and policy', async () => {
    const box = await keyless();
    const { recorded, error } = await runSignDigest({}, box);
    expect(error).toBeUndefined();
    expect(box.calls()).toEqual([
      ['version'],
      ['sign', '--yes', '--recursive', ref],
      ['verify', ...bound(DIRECT), ref],
    ]);
    // our code and the double each asked for a token, both for the sigstore audience
    expect(server?.requests).toEqual(['sigstore', 'sigstore']);
    expect(recorded.outputs).toMatchObject({
      digest,
      signature: `${image}:sha256-${'5e'.repeat(32)}.sig`,
      'certificate-identity': DIRECT,
      'certificate-oidc-issuer': ISSUER,
      'verify-command': `cosign verify ${bound(DIRECT).join(' ')} ${ref}`,
      'source-repository': 'octo-org/app',
      'source-ref': '',
    });
    const policyFile = recorded.outputs['kyverno-policy'] ?? '';
    expect(policyFile.startsWith(box.dir)).toBe(true);
    const policy = parse(readFileSync(policyFile, 'utf8'));
    expect(keylessEntry(policy).keyless).toMatchObject({ subject: DIRECT, issuer: ISSUER });
    expect(policy.spec.rules[0].verifyImages[0].type).toBe('Cosign');
    expect(recorded.summary).toContain(DIRECT);
    expect(recorded.summary).toContain(recorded.outputs['verify-command']);
    expect(recorded.summary).toContain('kind: ClusterPolicy');
    // the OIDC token itself is masked
    expect(recorded.secrets).toHaveLength(1);
    expect(everythingPrinted(recorded)).not.toContain(recorded.secrets[0]);
    // and the verify command a person would paste passes against the same registry
    expect(runPasted(recorded.outputs['verify-command'] ?? '', box).status).toBe(0);
  });

  test('reusable workflow: the identity is the called workflow (job_workflow_ref), not the caller', async () => {
    const box = await keyless(reusableClaims());
    const { ctx, recorded, error } = await runSignDigest({}, box);
    expect(error).toBeUndefined();
    expect(recorded.outputs['certificate-identity']).toBe(REUSABLE);
    // the caller's repository is bound too: the reusable workflow's identity is the same for every caller
    expect(box.calls()[2]).toEqual(['verify', ...bound(REUSABLE), ref]);
    expect(recorded.outputs['source-repository']).toBe('octo-org/app');
    expect(keylessEntry(parse(readFileSync(recorded.outputs['kyverno-policy'] ?? '', 'utf8'))).keyless.subject).toBe(
      REUSABLE,
    );
    expect(recorded.summary).toContain('octo-org/app/.github/workflows/ci.yml@refs/heads/main');
    // a verifier that expects the caller's identity is refused: that is not who signed
    const caller = 'https://github.com/octo-org/app/.github/workflows/ci.yml@refs/heads/main';
    await expect(
      verifySignature(ctx, new Cosign(ctx, 'cosign'), { imageRef: ref, identity: caller, issuer: ISSUER }),
    ).rejects.toThrow(/signed, but no signature matches/);
  });

  test('certificate-identity-regexp: verified with --certificate-identity-regexp, bound the same way, written as subjectRegExp', async () => {
    const box = await keyless(reusableClaims());
    const pattern = '^https://github\\.com/octo-org/shared-workflows/\\.github/workflows/sign\\.yml@refs/tags/v.+$';
    const { recorded, error } = await runSignDigest({ 'certificate-identity-regexp': pattern }, box);
    expect(error).toBeUndefined();
    expect(box.calls()[2]).toEqual([
      'verify',
      '--certificate-identity-regexp',
      pattern,
      '--certificate-oidc-issuer',
      ISSUER,
      '--certificate-github-workflow-repository',
      'octo-org/app',
      ref,
    ]);
    expect(recorded.outputs['certificate-identity']).toBe('');
    expect(recorded.outputs['certificate-identity-regexp']).toBe(pattern);
    expect(recorded.outputs['verify-command']).toContain(`--certificate-identity-regexp '${pattern}'`);
    const policy = parse(readFileSync(recorded.outputs['kyverno-policy'] ?? '', 'utf8'));
    expect(keylessEntry(policy).keyless).toMatchObject({
      subjectRegExp: pattern,
      issuer: ISSUER,
      additionalExtensions: { githubWorkflowRepository: 'octo-org/app' },
    });
    expect(recorded.warnings).toEqual([]);
    // the pasted command passes too
    expect(runPasted(recorded.outputs['verify-command'] ?? '', box).status).toBe(0);
  });

  test.each([
    [
      { 'certificate-identity': 'https://github.com/octo-org/.*' },
      /^Input "certificate-identity": "https:\/\/github.com\/octo-org\/\.\*" looks like a regular expression .* Give the pattern as certificate-identity-regexp/,
    ],
    [
      { 'certificate-identity-regexp': '^https://github\\.com/evil-org/.*$' },
      /^Input "certificate-identity-regexp": "\^https:.*evil-org.*" does not match https:\/\/github\.com\/octo-org\/app\/\.github\/workflows\/release\.yml@refs\/heads\/main, the identity this job's OIDC token will be certified as.*Nothing was signed/,
    ],
    [
      { 'certificate-identity-regexp': '^https://github\\.com/octo-org/.*$', 'policy-identity-match': 'any-ref' },
      /^Input "policy-identity-match": any-ref widens an exact certificate-identity/,
    ],
    [
      { 'kyverno-policy-kind': 'ImageValidatingPolicy' },
      /^Input "kyverno-policy-kind": ImageValidatingPolicy cannot be written for a keyless signature\. .*never reads keyless\.additionalExtensions.*Use kyverno-policy-kind: auto or ClusterPolicy.*Nothing was signed\.$/s,
    ],
  ])('keyless %j is refused before anything is signed, naming the input and the fix', async (inputs, message) => {
    const box = await keyless();
    const { error } = await runSignDigest(inputs, box);
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toMatch(message);
    expect(box.calls().filter((argv) => argv[0] === 'sign')).toEqual([]);
  });

  test('platforms (push-layout output): the digest and its platform manifests by name, one cosign each, not --recursive', async () => {
    const box = await keyless();
    const amd64 = `sha256:${'a1'.repeat(32)}`;
    const arm64 = `sha256:${'b2'.repeat(32)}`;
    const platforms = JSON.stringify({ 'linux/amd64': amd64, 'linux/arm64': arm64 });
    const { recorded, error } = await runSignDigest({ platforms }, box);
    expect(error).toBeUndefined();
    expect(
      box
        .calls()
        .filter((argv) => argv[0] === 'sign')
        .sort(),
    ).toEqual(
      [
        ['sign', '--yes', ref],
        ['sign', '--yes', `${image}@${amd64}`],
        ['sign', '--yes', `${image}@${arm64}`],
      ].sort(),
    );
    expect(recorded.summary).toContain('Also signed');
    // a single-platform image: its one manifest is the digest, signed once
    expect((await runSignDigest({ platforms: JSON.stringify({ 'linux/amd64': digest }) }, box)).error).toBeUndefined();
    // recursive: false signs the digest alone whatever platforms says
    expect((await runSignDigest({ platforms, recursive: 'false' }, box)).error).toBeUndefined();
    expect(
      box
        .calls()
        .filter((argv) => argv[0] === 'sign')
        .slice(3),
    ).toEqual([
      ['sign', '--yes', ref],
      ['sign', '--yes', ref],
    ]);
    expect((await runSignDigest({ platforms: '{"linux/amd64":"sha256:nope"}' }, box)).error?.message).toMatch(
      /^Input "platforms": linux\/amd64: /,
    );
  });

  test('no OIDC in the job: fails first, says to add permissions: id-token: write, cosign never runs', async () => {
    const box = sandbox();
    const { error, recorded } = await runSignDigest({}, box);
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toContain('permissions: id-token: write');
    expect(box.calls()).toEqual([]);
    expect(recorded.outputs).toEqual({});
  });

  test('verification failing after signing fails the step (identity override that is not the signer)', async () => {
    const box = await keyless();
    const wrong = 'https://github.com/octo-org/app/.github/workflows/other.yml@refs/heads/main';
    const { error, recorded } = await runSignDigest({ 'certificate-identity': wrong }, box);
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toContain(`Signature check failed for ${ref}`);
    expect(error?.message).toContain(wrong);
    expect(box.calls().map((argv) => argv[0])).toEqual(['version', 'sign', 'verify']);
    expect(recorded.outputs).toEqual({});
  });

  test('a signature that does not reach the registry: verify finds none for the digest, and the step fails', async () => {
    const box = await keyless();
    box.env.COSIGN_DOUBLE_LOSE_SIGNATURES = '1';
    const { error, recorded } = await runSignDigest({}, box);
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toContain(`Signature check failed for ${ref}: it has no signature at all`);
    expect(error?.message).toContain('no signatures found');
    expect(box.calls().map((argv) => argv[0])).toEqual(['version', 'sign', 'verify']);
    expect(recorded.outputs).toEqual({});
  });

  test("an identity with shell metacharacters (a git ref may hold ' and $): the verify command still pastes", async () => {
    const nasty = "octo-org/app/.github/workflows/release.yml@refs/heads/it's-$(touch pwned)-`id`";
    const box = await keyless({ ...directClaims(), job_workflow_ref: nasty });
    const { error, recorded } = await runSignDigest({}, box);
    expect(error).toBeUndefined();
    expect(recorded.outputs['certificate-identity']).toBe(`https://github.com/${nasty}`);
    const command = recorded.outputs['verify-command'] ?? '';
    const pasted = spawnSync('sh', ['-c', command], { env: box.env, encoding: 'utf8', cwd: box.dir });
    expect(pasted.status).toBe(0);
    expect(existsSync(join(box.dir, 'pwned'))).toBe(false);
    expect(box.calls().at(-1)).toEqual(['verify', ...bound(`https://github.com/${nasty}`), ref]);
  });

  test('the token endpoint refusing the request token: a clear error, nothing signed', async () => {
    const box = await keyless();
    box.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'wrong';
    const { error } = await runSignDigest({}, box);
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toMatch(/^Requesting the GitHub OIDC token failed \(HTTP 401\)/);
    expect(box.calls()).toEqual([['version']]);
  });

  test('verify: false skips the check with a warning', async () => {
    const box = await keyless();
    const { error, recorded } = await runSignDigest({ verify: 'false' }, box);
    expect(error).toBeUndefined();
    expect(box.calls().map((argv) => argv[0])).toEqual(['version', 'sign']);
    expect(recorded.warnings.join('\n')).toContain('not checked');
  });

  test('tls-verify: false passes the registry flags to sign and verify, and into the verify command', async () => {
    const box = await keyless();
    const { error, recorded } = await runSignDigest({ 'tls-verify': 'false' }, box);
    expect(error).toBeUndefined();
    for (const argv of box.calls().slice(1)) {
      expect(argv).toEqual(expect.arrayContaining(['--allow-insecure-registry', '--allow-http-registry']));
    }
    expect(recorded.outputs['verify-command']).toContain('--allow-http-registry');
  });
});

describe('cosign v3', () => {
  test('legacy bundle format: --new-bundle-format=false --use-signing-config=false, a .sig tag, type Cosign', async () => {
    const box = await keyless(directClaims(), '3.1.3');
    const { error, recorded } = await runSignDigest({ 'bundle-format': 'legacy' }, box);
    expect(error).toBeUndefined();
    expect(box.calls()[1]).toEqual([
      'sign',
      '--yes',
      '--recursive',
      '--new-bundle-format=false',
      '--use-signing-config=false',
      ref,
    ]);
    expect(recorded.outputs.signature).toMatch(/:sha256-(5e){32}\.sig$/);
    expect(
      parse(readFileSync(recorded.outputs['kyverno-policy'] ?? '', 'utf8')).spec.rules[0].verifyImages[0].type,
    ).toBe('Cosign');
    // a v2 cosign can still verify what v3 wrote in the legacy format
    expect(
      runPasted(recorded.outputs['verify-command'] ?? '', {
        ...box,
        env: { ...box.env, COSIGN_DOUBLE_VERSION: '2.6.5' },
      }).status,
    ).toBe(0);
  });

  test('new bundle format: an OCI 1.1 referrer; cosign v2.6.5 verifies it too', async () => {
    const box = await keyless(directClaims(), '3.1.3');
    const { error, recorded } = await runSignDigest({ 'bundle-format': 'new' }, box);
    expect(error).toBeUndefined();
    expect(box.calls()[1]).toEqual(['sign', '--yes', '--recursive', ref]);
    expect(recorded.outputs.signature).toMatch(/^OCI 1\.1 referrer/);
    // cosign 2.6.3+ switches to bundle verification whenever a bundle is attached (real-tier fidelity test)
    const v2 = runPasted(recorded.outputs['verify-command'] ?? '', {
      ...box,
      env: { ...box.env, COSIGN_DOUBLE_VERSION: '2.6.5' },
    });
    expect(v2.status).toBe(0);
  });

  test('bundle-format new with a cosign v2 on PATH: refused after reading its version, before signing', async () => {
    const box = await keyless(directClaims(), '2.6.5');
    const { error } = await runSignDigest({ 'bundle-format': 'new' }, box);
    expect(error?.message).toMatch(/needs cosign v3 to sign.*Kyverno cannot find/);
    expect(box.calls()).toEqual([['version']]);
  });

  test('keyless bundle-format new: no Kyverno policy (Kyverno cannot bind the source repository of a bundle), said plainly', async () => {
    const box = await keyless(directClaims(), '3.1.3');
    const { error, recorded } = await runSignDigest({ 'bundle-format': 'new' }, box);
    expect(error).toBeUndefined();
    expect(recorded.outputs['kyverno-policy']).toBe('');
    expect(recorded.warnings.join('\n')).toMatch(/No Kyverno policy was written: .*additionalExtensions/);
    expect(recorded.summary).toContain('No Kyverno policy was written');
  });
});

describe('key-based signing', () => {
  function keyPair(box: Sandbox, password: string): string {
    execFileSync('cosign', ['generate-key-pair'], {
      cwd: box.dir,
      env: { ...box.env, COSIGN_DOUBLE_LOG: '', COSIGN_PASSWORD: password },
    });
    return join(box.dir, 'cosign.key');
  }

  test('signs with the key while its public key is exported, verifies with it; the policy holds the key; no OIDC needed', async () => {
    const box = sandbox();
    const key = keyPair(box, 'hunter2');
    box.env.COSIGN_PASSWORD = 'hunter2';
    const { error, recorded } = await runSignDigest({ key }, box);
    expect(error).toBeUndefined();
    const pub = recorded.outputs['public-key'] ?? '';
    const calls = box.calls();
    // cosign public-key and cosign sign run at once (each decrypts the key, on its own core), then the verification
    expect(calls[0]).toEqual(['version']);
    expect(calls.slice(1, 3).sort()).toEqual(
      [
        ['public-key', '--key', key],
        ['sign', '--yes', '--recursive', '--key', key, ref],
      ].sort(),
    );
    expect(calls.slice(3)).toEqual([['verify', '--key', pub, ref]]);
    expect(readFileSync(pub, 'utf8')).toBe(readFileSync(join(box.dir, 'cosign.pub'), 'utf8'));
    expect(recorded.outputs['certificate-identity']).toBe('');
    expect(recorded.outputs['verify-command']).toBe(`cosign verify --key ${pub} ${ref}`);
    // with the transparency log (the default), a ClusterPolicy: an ImageValidatingPolicy cannot be checked offline then
    expect(recorded.outputs['kyverno-policy-kind']).toBe('ClusterPolicy');
    expect(recorded.outputs['kyverno-policy']).toMatch(/kyverno-clusterpolicy\.yaml$/);
    const entry = keylessEntry(parse(readFileSync(recorded.outputs['kyverno-policy'] ?? '', 'utf8')));
    expect(entry.keys.publicKeys).toBe(readFileSync(join(box.dir, 'cosign.pub'), 'utf8'));
    expect(recorded.secrets).toContain('hunter2');
    expect(everythingPrinted(recorded)).not.toContain('hunter2');
  });

  test('a key without a transparency log: an ImageValidatingPolicy (auto), or the ClusterPolicy when asked', async () => {
    const box = sandbox({ COSIGN_PASSWORD: 'hunter2' });
    const key = keyPair(box, 'hunter2');
    const auto = await runSignDigest({ key, 'transparency-log': 'false' }, box);
    expect(auto.error).toBeUndefined();
    expect(auto.recorded.outputs['kyverno-policy-kind']).toBe('ImageValidatingPolicy');
    expect(auto.recorded.outputs['kyverno-policy']).toMatch(/kyverno-imagevalidatingpolicy\.yaml$/);
    const policy = parse(readFileSync(auto.recorded.outputs['kyverno-policy'] ?? '', 'utf8'));
    expect(policy.spec.attestors[0].cosign).toEqual({
      key: { data: readFileSync(join(box.dir, 'cosign.pub'), 'utf8') },
      ctlog: { insecureIgnoreTlog: true },
    });
    expect(auto.recorded.summary).toContain('Kyverno ImageValidatingPolicy');
    const asked = await runSignDigest(
      { key, 'transparency-log': 'false', 'kyverno-policy-kind': 'ClusterPolicy' },
      box,
    );
    expect(asked.recorded.outputs['kyverno-policy-kind']).toBe('ClusterPolicy');
    const entry = keylessEntry(parse(readFileSync(asked.recorded.outputs['kyverno-policy'] ?? '', 'utf8')));
    expect(entry.keys.publicKeys).toBe(readFileSync(join(box.dir, 'cosign.pub'), 'utf8'));
  });

  test('a wrong key password fails, cosign public-key saying why, and nothing is signed', async () => {
    const box = sandbox();
    const key = keyPair(box, 'right');
    box.env.COSIGN_PASSWORD = 'wrong';
    const { error } = await runSignDigest({ key }, box);
    expect(error?.message).toMatch(/Exporting the public key failed.*decryption failed/s);
    expect(
      box
        .calls()
        .map((argv) => argv[0])
        .sort(),
    ).toEqual(['public-key', 'sign', 'version']);
    // the double keeps what sign pushed in its state: nothing
    const state = join(box.dir, 'state');
    expect(existsSync(state) ? readFileSync(join(state, 'signatures.jsonl'), 'utf8') : '').toBe('');
  });

  test('a key file that is not there is refused by name before anything runs, with the fix', async () => {
    const box = sandbox();
    const { error } = await runSignDigest({ key: join(box.dir, 'missing.key') }, box);
    expect(error?.message).toMatch(
      /^Input "key": the private key file ".*missing\.key" does not exist \(looked for .*\): write the key from a secret/,
    );
    expect(box.calls()).toEqual([]);
    // KMS URIs and env:// pass through to cosign
    const kms = await runSignDigest({ key: 'awskms:///alias/release', 'bundle-format': 'nonsense' }, box);
    expect(kms.error?.message).not.toMatch(/Input "key"/);
  });

  test('key and certificate identity together are refused as inputs', async () => {
    const box = sandbox();
    const key = keyPair(box, 'x');
    const { error } = await runSignDigest({ key, 'certificate-identity': DIRECT }, box);
    expect(error?.message).toMatch(/^Input "key"/);
    expect(box.calls()).toEqual([]);
  });
});

describe('verifySignature (what promote-tags calls)', () => {
  test('a digest the double never signed: "no signature at all", as a UserError', async () => {
    const box = await keyless();
    expect((await runSignDigest({}, box)).error).toBeUndefined();
    const { ctx } = createTestContext({}, { env: box.env });
    await expect(
      verifySignature(ctx, new Cosign(ctx, 'cosign'), { imageRef: ref, identity: DIRECT, issuer: ISSUER }),
    ).resolves.toMatchObject({
      signatures: 1,
    });
    const unsigned = `${image}@${otherDigest}`;
    const failure = verifySignature(ctx, new Cosign(ctx, 'cosign'), {
      imageRef: unsigned,
      identity: DIRECT,
      issuer: ISSUER,
    });
    await expect(failure).rejects.toThrow(UserError);
    await expect(failure).rejects.toThrow(`Signature check failed for ${unsigned}: it has no signature at all`);
  });

  test('refuses a tag reference and a half-given signer without running cosign', async () => {
    const box = sandbox();
    const { ctx } = createTestContext({}, { env: box.env });
    await expect(
      verifySignature(ctx, new Cosign(ctx, 'cosign'), {
        imageRef: `${image}:latest`,
        identity: DIRECT,
        issuer: ISSUER,
      }),
    ).rejects.toThrow(/image@sha256/);
    await expect(verifySignature(ctx, new Cosign(ctx, 'cosign'), { imageRef: ref, identity: DIRECT })).rejects.toThrow(
      /certificate-oidc-issuer/,
    );
    expect(box.calls()).toEqual([]);
  });
});

describe('bad inputs: one clear error, cosign never invoked', () => {
  test.each([
    ['digest', { digest: 'sha256:abc' }, /^Input "digest": must be "sha256:" followed by 64 lowercase hex/],
    ['image', { image: 'Registry.example.com/Octo/App' }, /^Input "image": must be lowercase/],
    ['bundle-format', { 'bundle-format': 'v3' }, /^Input "bundle-format": must be one of legacy, new, got "v3"/],
    [
      'bundle-format new with the default cosign v2',
      { 'bundle-format': 'new', 'install-tools': 'true' },
      /^Input "bundle-format": "new" needs cosign v3 to sign/,
    ],
    [
      'policy-identity-match',
      { 'policy-identity-match': 'regex' },
      /^Input "policy-identity-match": must be one of exact, any-ref/,
    ],
    ['cosign-version', { 'cosign-version': 'latest' }, /^Input "cosign-version": must be an exact release version/],
  ])('%s', async (_name, inputs, message) => {
    const box = await keyless();
    const { error, recorded } = await runSignDigest(inputs, box);
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toMatch(message);
    expect(error?.message.split('\n')).toHaveLength(1);
    expect(box.calls()).toEqual([]);
    expect(server?.requests).toEqual([]);
    expect(recorded.outputs).toEqual({});
    expect(existsSync(join(box.dir, 'runner-temp'))).toBe(false);
  });
});
