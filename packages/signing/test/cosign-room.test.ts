// The cosign room: one table of what each version can do, the version read once, the refusal of bundle-format new
// below v3 wherever the suite signs, the private registry environment, and one signer worked out from inputs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ActionContext, type RunOptions, type ToolRunner, UserError } from '@golden-image/kit';
import { describe, expect, test } from '@jest/globals';
import { craftToken, directClaims, reusableClaims } from '../../../test/fixtures/signing/oidc.js';
import {
  abilitiesOf,
  bundleFormatProblem,
  bundlesTookOver,
  COSIGN_ABILITIES,
  Cosign,
  checkCosignRequest,
  checkKeyInputs,
  cosignVersionOf,
  pinnedCosignV3,
  signerFromInputs,
  verifierFromInputs,
} from '../src/index.js';

/** A runner that answers like cosign of one version and records every call with its environment. */
class FakeCosign implements ToolRunner {
  readonly calls: { args: string[]; env?: NodeJS.ProcessEnv }[] = [];
  constructor(private readonly version: string) {}
  async run(_tool: string, args: readonly string[], options: RunOptions = {}) {
    this.calls.push({ args: [...args], env: options.env });
    const config = options.env?.DOCKER_CONFIG;
    const stdout =
      args[0] === 'version'
        ? `GitVersion:    v${this.version}\n`
        : args[0] === 'public-key'
          ? '-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----\n'
          : config && existsSync(join(config, 'config.json'))
            ? readFileSync(join(config, 'config.json'), 'utf8')
            : '';
    return { exitCode: 0, stdout: Buffer.from(stdout), stderr: '' };
  }
}

function context(runner: ToolRunner, env: NodeJS.ProcessEnv = {}) {
  const seen = { infos: [] as string[], warnings: [] as string[], secrets: [] as string[] };
  const ctx: ActionContext = {
    input: () => '',
    output: () => undefined,
    summary: async () => undefined,
    secret: (value) => seen.secrets.push(value),
    info: (message) => seen.infos.push(message),
    warning: (message) => seen.warnings.push(message),
    error: () => undefined,
    group: (_name, fn) => fn(),
    runner,
    env,
    tempDir: tmpdir(),
  };
  return { ctx, seen };
}

describe('the table of what each cosign version can do', () => {
  test('rows are newest first and every row names every ability', () => {
    const froms = COSIGN_ABILITIES.map((row) => row.from);
    expect([...froms].sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))).toEqual(froms);
    const names = Object.keys(COSIGN_ABILITIES[0]?.can ?? {}).sort();
    for (const row of COSIGN_ABILITIES) expect(Object.keys(row.can).sort()).toEqual(names);
  });

  test.each([
    ['3.1.3', { signsFindableBundles: true, bundleByDefault: true, bundlesHideLegacy: false }],
    ['3.0.0', { signsFindableBundles: true, bundleByDefault: true, keyBundleNeedsTrustedRoot: false }],
    ['2.6.5', { signsFindableBundles: false, bundlesHideLegacy: true, keyBundleNeedsTrustedRoot: true }],
    ['2.7.0', { signsFindableBundles: false, bundlesHideLegacy: true }],
    ['2.6.2', { signsFindableBundles: false, bundlesHideLegacy: false }],
    ['2.4.0', { signsFindableBundles: false, signingConfig: false }],
  ])('cosign %s', (version, expected) => {
    expect(abilitiesOf(cosignVersionOf(version))).toMatchObject(expected);
  });

  test('older than the last row is not served at all', () => {
    expect(abilitiesOf(cosignVersionOf('2.3.9'))).toBeUndefined();
    expect(abilitiesOf(cosignVersionOf('1.13.1'))).toBeUndefined();
  });

  test('the legacy-check fallback is the newest pinned v3', () => {
    expect(pinnedCosignV3()).toMatch(/^3\./);
  });

  test('bundles hide the legacy signature only where the table says so', () => {
    const stderr = 'Error: no matching attestations: none';
    expect(bundlesTookOver(cosignVersionOf('2.6.5'), 'legacy', stderr)).toBe(true);
    expect(bundlesTookOver(cosignVersionOf('2.6.2'), 'legacy', stderr)).toBe(false);
    expect(bundlesTookOver(cosignVersionOf('3.1.3'), 'legacy', stderr)).toBe(false);
    expect(bundlesTookOver(cosignVersionOf('2.6.5'), 'new', stderr)).toBe(false);
  });
});

describe('bundle-format new needs cosign v3 wherever the suite signs (cosign 2.6 bundles are invisible to Kyverno)', () => {
  test('before install: the version the inputs would install', () => {
    expect(() => checkCosignRequest({ tool: 'cosign', install: true }, 'new')).toThrow(
      /^Input "bundle-format": "new" needs cosign v3 to sign \(cosign 2\.6 writes bundles Kyverno cannot find\)/,
    );
    expect(() => checkCosignRequest({ tool: 'cosign', install: true, version: '2.6.5' }, 'new')).toThrow(UserError);
    expect(() => checkCosignRequest({ tool: 'cosign', install: true, version: '3.1.3' }, 'new')).not.toThrow();
    expect(() => checkCosignRequest({ tool: 'cosign', install: true }, 'legacy')).not.toThrow();
    // install-tools: false: known only once cosign runs
    expect(() => checkCosignRequest({ tool: 'cosign', install: false }, 'new')).not.toThrow();
  });

  test('after reading the version: one message, naming the cosign in use', async () => {
    expect(bundleFormatProblem('new', cosignVersionOf('2.6.5'), true)).toMatch(
      /"new" needs cosign v3 to sign, but cosign v2\.6\.5 is in use/,
    );
    const runner = new FakeCosign('2.6.5');
    const { ctx } = context(runner);
    const cosign = new Cosign(ctx, 'cosign', { bundleFormat: 'new' });
    await expect(cosign.requireSigningFormat()).rejects.toThrow(/needs cosign v3 to sign/);
    await expect(new Cosign(ctx, 'cosign', { bundleFormat: 'legacy' }).requireSigningFormat()).resolves.toBeUndefined();
    const v3 = new Cosign(context(new FakeCosign('3.1.3')).ctx, 'cosign', { bundleFormat: 'new' });
    await expect(v3.requireSigningFormat()).resolves.toBeUndefined();
  });
});

describe('Cosign', () => {
  test('reads its version once, shared by its copies with another environment', async () => {
    const runner = new FakeCosign('3.1.3');
    const { ctx } = context(runner);
    const cosign = new Cosign(ctx, 'cosign');
    const copy = cosign.withEnv({ DOCKER_CONFIG: '/x' });
    await Promise.all([cosign.version(), cosign.version(), copy.version(), cosign.abilities()]);
    expect(runner.calls.filter((call) => call.args[0] === 'version')).toHaveLength(1);
    expect((await copy.version()).text).toBe('v3.1.3');
  });

  test('refuses a cosign older than the table', async () => {
    const { ctx } = context(new FakeCosign('2.2.4'));
    await expect(new Cosign(ctx, 'cosign').version()).rejects.toThrow(
      /cosign v2\.2\.4 is too old: the suite needs cosign v2\.4\.0 or newer/,
    );
  });

  test('argv from the step setup: format, instance and registry flags are given once', async () => {
    const { ctx } = context(new FakeCosign('3.1.3'));
    const cosign = new Cosign(ctx, 'cosign', {
      bundleFormat: 'legacy',
      instance: { fulcioUrl: 'http://127.0.0.1:5555', transparencyLog: false, ctLog: false },
      registryFlags: ['--allow-http-registry'],
    });
    const ref = `r.example/app@sha256:${'ab'.repeat(32)}`;
    expect(await cosign.signArgs(ref, { recursive: true })).toEqual([
      'sign',
      '--yes',
      '--recursive',
      '--new-bundle-format=false',
      '--use-signing-config=false',
      '--fulcio-url',
      'http://127.0.0.1:5555',
      '--tlog-upload=false',
      '--insecure-skip-verify',
      '--allow-http-registry',
      ref,
    ]);
    expect(await cosign.verifyCommand(ref, { key: 'k.pub' })).toBe(
      `cosign verify --key k.pub --new-bundle-format=false --insecure-ignore-tlog --allow-http-registry ${ref}`,
    );
    expect(cosign.signatureLocation('r.example/app', `sha256:${'ab'.repeat(32)}`)).toBe(
      `r.example/app:sha256-${'ab'.repeat(32)}.sig`,
    );
  });

  test('a key-signed bundle on cosign v2 with no log gets an empty trusted root, made once', async () => {
    const { ctx } = context(new FakeCosign('2.6.5'));
    const cosign = new Cosign(ctx, 'cosign', {
      bundleFormat: 'new',
      instance: { transparencyLog: false, ctLog: true },
    });
    const first = await cosign.verifyInstance({ key: 'k.pub' });
    expect(first?.trustedRoot).toMatch(/golden-image-empty-trusted-root\.json$/);
    expect(await cosign.verifyInstance({ key: 'other.pub' })).toBe(first);
    const v3 = new Cosign(context(new FakeCosign('3.1.3')).ctx, 'cosign', {
      bundleFormat: 'new',
      instance: { transparencyLog: false, ctLog: true },
    });
    expect((await v3.verifyInstance({ key: 'k.pub' }))?.trustedRoot).toBeUndefined();
  });

  test('the private registry environment: the auth file as DOCKER_CONFIG of this cosign only, removed after', async () => {
    const runner = new FakeCosign('3.1.3');
    const { ctx } = context(runner, { HOME: '/home/runner' });
    const authFile = join(tmpdir(), `golden-image-auth-${process.pid}.json`);
    writeFileSync(authFile, '{"auths":{"r.example":{"auth":"dTpw"}}}');
    const cosign = new Cosign(ctx, 'cosign');
    let dir = '';
    const seen = await cosign.withRegistryAuth(authFile, async (authed) => {
      dir = authed.env.DOCKER_CONFIG as string;
      expect(cosign.env.DOCKER_CONFIG).toBeUndefined();
      return (await authed.run(['verify'])).stdout.toString();
    });
    expect(seen).toContain('"r.example"');
    expect(existsSync(dir)).toBe(false);
    await expect(
      cosign.withRegistryAuth(authFile, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await cosign.withRegistryAuth(undefined, async (same) => same)).toBe(cosign);
  });

  test('the pinned v3 checks legacy signatures only for a cosign whose verify hides them', async () => {
    const fetched: string[] = [];
    const fetchV3 = async () => {
      fetched.push('v3');
      return '/tools/cosign-v3';
    };
    const v2 = new Cosign(context(new FakeCosign('2.6.5')).ctx, 'cosign', {}, { fetchV3 });
    expect((await v2.legacyVerifier())?.path).toBe('/tools/cosign-v3');
    const old = new Cosign(context(new FakeCosign('2.6.2')).ctx, 'cosign', {}, { fetchV3 });
    expect(await old.legacyVerifier()).toBeUndefined();
    const noInstall = new Cosign(context(new FakeCosign('2.6.5')).ctx, 'cosign');
    expect(await noInstall.legacyVerifier()).toBeUndefined();
    expect(fetched).toEqual(['v3']);
  });
});

describe('one signer from the inputs', () => {
  const token = (claims: Record<string, unknown>) => async () => craftToken(claims);

  test('key: the public half exported with cosign public-key, before anything is signed', async () => {
    const runner = new FakeCosign('3.1.3');
    const { ctx } = context(runner);
    const resolved = await signerFromInputs(ctx, new Cosign(ctx, 'cosign'), { key: 'cosign.key' });
    expect(resolved.signer.key).toMatch(/sign-digest-cosign\.pub$/);
    expect(resolved.publicKey?.pem).toContain('BEGIN PUBLIC KEY');
    expect(runner.calls.map((call) => call.args[0])).toEqual(['public-key']);
    const kms = await signerFromInputs(ctx, new Cosign(ctx, 'cosign'), { key: 'awskms:///alias/k' });
    expect(kms).toMatchObject({ signer: { key: 'awskms:///alias/k' }, publicKey: { kms: 'awskms:///alias/k' } });
  });

  test('keyless: predicted from the token (a reusable workflow certifies its own file), bound to its repository', async () => {
    const { ctx, seen } = context(new FakeCosign('3.1.3'), { GITHUB_REPOSITORY: 'ignored/when-token-says' });
    const resolved = await signerFromInputs(ctx, new Cosign(ctx, 'cosign'), {}, token(reusableClaims()));
    expect(resolved).toEqual({
      signer: {
        identity: 'https://github.com/octo-org/shared-workflows/.github/workflows/sign.yml@refs/tags/v1.2.0',
        issuer: 'https://token.actions.githubusercontent.com',
        source: { repository: 'octo-org/app' },
      },
      caller: 'https://github.com/octo-org/app/.github/workflows/ci.yml@refs/heads/main',
      notes: [],
    });
    expect(seen.secrets).toHaveLength(1);
  });

  test('keyless: inputs win; no token asked when identity, issuer and repository are all given', async () => {
    const { ctx } = context(new FakeCosign('3.1.3'));
    const never = async (): Promise<string> => {
      throw new Error('no token should be asked for');
    };
    const resolved = await signerFromInputs(
      ctx,
      new Cosign(ctx, 'cosign'),
      {
        'certificate-identity': 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main',
        'certificate-oidc-issuer': 'https://issuer.example',
        'source-repository': 'o/r',
        'source-ref': 'refs/heads/main',
        'source-trigger': 'push',
      },
      never,
    );
    expect(resolved.signer).toEqual({
      identity: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main',
      issuer: 'https://issuer.example',
      source: { repository: 'o/r', ref: 'refs/heads/main', trigger: 'push' },
    });
  });

  test('keyless: no repository anywhere is said as a note', async () => {
    const { ctx } = context(new FakeCosign('3.1.3'));
    const { repository: _, ...claims } = directClaims();
    const resolved = await signerFromInputs(ctx, new Cosign(ctx, 'cosign'), {}, token(claims));
    expect(resolved.signer.source).toBeUndefined();
    expect(resolved.notes.join()).toMatch(/No source repository is bound/);
  });

  test('a key excludes the keyless inputs, named in one message', () => {
    expect(() => checkKeyInputs({ key: 'k', 'certificate-identity': 'i', 'fulcio-url': 'u' }, 'signing')).toThrow(
      'Input "key": key-based signing is verified with the key; leave certificate-identity, fulcio-url empty',
    );
    expect(() => checkKeyInputs({ key: 'k', 'source-ref': 'refs/heads/x' }, 'attestations')).toThrow(
      'Input "key": key-based attestations are verified with the key; leave source-ref empty',
    );
    expect(() => checkKeyInputs({ 'certificate-identity': 'i' }, 'signing')).not.toThrow();
  });

  test('verifier: named by the inputs, source repository defaulting to the run’s own; said in the log', () => {
    const { ctx, seen } = context(new FakeCosign('3.1.3'), { GITHUB_REPOSITORY: 'octo-org/app' });
    const signer = verifierFromInputs(
      ctx,
      { 'certificate-identity': 'https://id', 'certificate-oidc-issuer': 'https://iss' },
      'require-signature',
    );
    expect(signer).toEqual({ identity: 'https://id', issuer: 'https://iss', source: { repository: 'octo-org/app' } });
    expect(seen.infos.join()).toMatch(/source repository from GITHUB_REPOSITORY, the run's own/);
    expect(() => verifierFromInputs(ctx, { 'certificate-identity': 'https://id' }, 'require-signature')).toThrow(
      /^Input "require-signature": is true, so the signer must be named/,
    );
    expect(() =>
      verifierFromInputs(ctx, { key: 'k.pub', 'source-ref': 'refs/heads/main' }, 'require-signature'),
    ).toThrow(/a key signature carries no certificate/);
    const unbound = context(new FakeCosign('3.1.3'));
    verifierFromInputs(unbound.ctx, { 'certificate-identity': 'i', 'certificate-oidc-issuer': 'https://s' }, 'x');
    expect(unbound.seen.warnings.join()).toMatch(/binds only identity i/);
  });
});
