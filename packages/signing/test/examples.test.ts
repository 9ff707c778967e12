// examples/kyverno/*.yaml are written by this code for a fork (your-fork/app); this test keeps them in step.
// Regenerate with: UPDATE_EXAMPLES=1 node --experimental-vm-modules node_modules/jest/bin/jest.js packages/signing/test/examples.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@jest/globals';
import { buildClusterPolicy, defaultImageReferences, type PolicyOptions, policyYaml } from '../src/index.js';

const DIR = fileURLToPath(new URL('../../../examples/kyverno/', import.meta.url));
const image = 'ghcr.io/your-fork/app';
const identity = 'https://github.com/your-fork/app/.github/workflows/release.yml@refs/heads/main';
const issuer = 'https://token.actions.githubusercontent.com';
// A throwaway P-256 public key (its private half was discarded); replace it with your cosign.pub.
const pem = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELby4WsuLybXUvuCmdgeF2fJjzyyl
hTtM4R3KJsFhg72dHZDA4uFNfMVDdMiZjqiHKx72rPBUGmiSj+/o34qNxg==
-----END PUBLIC KEY-----
`;

const base = { image, imageReferences: defaultImageReferences(image) };
const EXAMPLES: Record<string, PolicyOptions> = {
  'keyless-cosign-v2.yaml': {
    ...base,
    bundleFormat: 'legacy',
    signer: { kind: 'keyless', identity, issuer, match: 'exact' },
  },
  'keyless-any-ref.yaml': {
    ...base,
    bundleFormat: 'legacy',
    signer: { kind: 'keyless', identity, issuer, match: 'any-ref' },
  },
  'keyless-sigstore-bundle.yaml': {
    ...base,
    bundleFormat: 'new',
    signer: { kind: 'keyless', identity, issuer, match: 'exact' },
  },
  'key.yaml': { ...base, bundleFormat: 'legacy', signer: { kind: 'key', pem } },
};

test.each(Object.entries(EXAMPLES))('examples/kyverno/%s is what sign-digest writes', (file, options) => {
  const generated = policyYaml(buildClusterPolicy(options));
  if (process.env.UPDATE_EXAMPLES === '1' || !existsSync(`${DIR}${file}`)) writeFileSync(`${DIR}${file}`, generated);
  expect(readFileSync(`${DIR}${file}`, 'utf8')).toBe(generated);
});
