import { execFileSync } from 'node:child_process';
import { UserError } from '@golden-image/kit';
import { describe, expect, test } from '@jest/globals';
import { craftToken, directClaims, reusableClaims } from '../../../test/fixtures/signing/oidc.js';
import {
  decodeJwtClaims,
  identityFromClaims,
  parseCosignVersion,
  shellCommand,
  shellQuote,
  signArgs,
  signatureLocation,
  signerOf,
  verifyArgs,
} from '../src/index.js';

const digest = `sha256:${'ab'.repeat(32)}`;
const imageRef = `ghcr.io/octo-org/app@${digest}`;

describe('shell quoting of the verify command', () => {
  const nasty = [
    "https://github.com/o/r/.github/workflows/x.yml@refs/heads/it's",
    'a b',
    '$(touch /tmp/pwned)',
    '`id`',
    '"double"',
    'semi;colon&amp|pipe',
    'new\nline',
    '*',
    '~root',
    '=cmd',
    '',
    'back\\slash',
    '!history',
    '#comment',
    ...['a=b', '--flag=false', 'ghcr.io/o/a@sha256:00'],
  ];

  test.each(['sh', 'bash'])('a %s shell gives the program exactly the original argv', (shell) => {
    const script = 'process.stdout.write(JSON.stringify(process.argv.slice(1)))';
    const command = shellCommand([process.execPath, '-e', script, ...nasty]);
    const out = execFileSync(shell, ['-c', command], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(nasty);
  });

  test('plain words stay readable; everything else is single-quoted', () => {
    expect(shellQuote('ghcr.io/o/a@sha256:00')).toBe('ghcr.io/o/a@sha256:00');
    expect(shellQuote('--key')).toBe('--key');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
    expect(shellQuote('=x')).toBe(`'=x'`);
  });
});

describe('identity from the OIDC token', () => {
  test('a direct workflow: the certificate names the workflow file that ran', () => {
    const claims = decodeJwtClaims(craftToken(directClaims()));
    expect(identityFromClaims(claims)).toEqual({
      identity: 'https://github.com/octo-org/app/.github/workflows/release.yml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
      repository: 'octo-org/app',
      ref: 'refs/heads/main',
    });
  });

  test('a reusable workflow: job_workflow_ref (the called file), not the caller (cosign #1313)', () => {
    const id = identityFromClaims(decodeJwtClaims(craftToken(reusableClaims())));
    expect(id.identity).toBe(
      'https://github.com/octo-org/shared-workflows/.github/workflows/sign.yml@refs/tags/v1.2.0',
    );
    expect(id.caller).toBe('https://github.com/octo-org/app/.github/workflows/ci.yml@refs/heads/main');
  });

  test('a token without job_workflow_ref, or not a JWT, is a clear UserError', () => {
    const { job_workflow_ref: _, ...rest } = directClaims();
    expect(() => identityFromClaims(decodeJwtClaims(craftToken(rest)))).toThrow(/job_workflow_ref/);
    expect(() => decodeJwtClaims('nope')).toThrow(UserError);
    expect(() => decodeJwtClaims('a.bm90IGpzb24.c')).toThrow(/not a JSON object/);
  });
});

describe('cosign version', () => {
  const banner = [
    '  ______   ______        _______. __    _______ .__   __.',
    'cosign: A tool for Container Signing, Verification and Storage in an OCI registry.',
    '',
    'GitVersion:    v2.5.2',
    'GitCommit:     af5a988bb15a03919ccaac7a2ddcad7a9d006f38',
    'GitTreeState:  clean',
  ].join('\n');

  test('reads the text banner and the --json form', () => {
    expect(parseCosignVersion(banner)).toEqual({ text: 'v2.5.2', major: 2, minor: 5, patch: 2 });
    expect(parseCosignVersion('{\n  "gitVersion": "v3.1.3",\n  "gitCommit": "x"\n}')).toMatchObject({
      major: 3,
      minor: 1,
      patch: 3,
    });
    expect(parseCosignVersion('cosign: something else')).toBeUndefined();
  });
});

describe('argv', () => {
  const v2 = { text: 'v2.6.5', major: 2, minor: 6, patch: 5 };
  const v3 = { text: 'v3.1.3', major: 3, minor: 1, patch: 3 };

  test('sign: v2 needs no format flags; v3 legacy turns both new defaults off with =false', () => {
    expect(signArgs({ imageRef, version: v2, bundleFormat: 'legacy', recursive: true })).toEqual([
      'sign',
      '--yes',
      '--recursive',
      imageRef,
    ]);
    expect(signArgs({ imageRef, version: v3, bundleFormat: 'legacy', recursive: false, key: 'k.key' })).toEqual([
      'sign',
      '--yes',
      '--key',
      'k.key',
      '--new-bundle-format=false',
      '--use-signing-config=false',
      imageRef,
    ]);
    expect(signArgs({ imageRef, version: v3, bundleFormat: 'new', recursive: true })).toEqual([
      'sign',
      '--yes',
      '--recursive',
      imageRef,
    ]);
  });

  test('verify: pinned to one identity and issuer, or one key', () => {
    expect(verifyArgs({ imageRef, signer: { identity: 'I', issuer: 'S' } })).toEqual([
      'verify',
      '--certificate-identity',
      'I',
      '--certificate-oidc-issuer',
      'S',
      imageRef,
    ]);
    expect(verifyArgs({ imageRef, signer: { key: 'cosign.pub' }, registryFlags: ['--allow-http-registry'] })).toEqual([
      'verify',
      '--key',
      'cosign.pub',
      '--allow-http-registry',
      imageRef,
    ]);
  });

  test('signerOf wants a key or both identity and issuer', () => {
    expect(() => signerOf({ identity: 'I' })).toThrow(/certificate-oidc-issuer/);
    expect(() => signerOf({ key: 'k', identity: 'I' })).toThrow(/not both/);
    expect(signerOf({ key: 'k' })).toEqual({ key: 'k' });
  });

  test('signature location: the legacy .sig tag (or COSIGN_REPOSITORY), or a referrer', () => {
    expect(signatureLocation('ghcr.io/o/a', digest, 'legacy', {})).toBe(`ghcr.io/o/a:sha256-${'ab'.repeat(32)}.sig`);
    expect(signatureLocation('ghcr.io/o/a', digest, 'legacy', { COSIGN_REPOSITORY: 'ghcr.io/o/sigs' })).toBe(
      `ghcr.io/o/sigs:sha256-${'ab'.repeat(32)}.sig`,
    );
    expect(signatureLocation('ghcr.io/o/a', digest, 'new', {})).toMatch(/^OCI 1\.1 referrer/);
  });
});
