// examples/kyverno/*-attestations.yaml: what attest-evidence writes from sign-digest's example policies (the files
// packages/signing/test/examples.test.ts keeps) with its default requirement (an SBOM and a scan result, scanned within
// 168h, nothing at or above HIGH). Regenerate with:
// UPDATE_EXAMPLES=1 node --experimental-vm-modules node_modules/jest/bin/jest.js packages/signing/test/examples.test.ts packages/evidence/test/examples.test.ts
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@jest/globals';
import { DEFAULT_MAX_SCAN_AGE, evidencePolicyProblem, requireEvidenceInPolicy } from '../src/index.js';

const DIR = fileURLToPath(new URL('../../../examples/kyverno/', import.meta.url));
/**
 * The policy each copy is made from: both forms for a key, and the keyless ClusterPolicy. Not key-no-log.yaml:
 * attest-evidence refuses to add legacy attestations to an ImageValidatingPolicy without a log (Kyverno 1.19 would
 * refuse every image); with bundles it can (key-sigstore-bundle-no-log).
 */
export const ATTESTED: Record<string, string> = {
  'key-attestations.yaml': 'key.yaml',
  'key-imagevalidatingpolicy-attestations.yaml': 'key-imagevalidatingpolicy.yaml',
  'key-sigstore-bundle-no-log-attestations.yaml': 'key-sigstore-bundle-no-log.yaml',
  'keyless-attestations.yaml': 'keyless.yaml',
};

test.each(Object.entries(ATTESTED))('examples/kyverno/%s is what attest-evidence writes from %s', (file, from) => {
  const generated = requireEvidenceInPolicy(readFileSync(`${DIR}${from}`, 'utf8'), {
    kinds: ['sbom', 'vuln'],
    maxScanAge: DEFAULT_MAX_SCAN_AGE,
    blockSeverity: 'HIGH',
  });
  if (process.env.UPDATE_EXAMPLES === '1' || !existsSync(`${DIR}${file}`)) writeFileSync(`${DIR}${file}`, generated);
  expect(readFileSync(`${DIR}${file}`, 'utf8')).toBe(generated);
});

test('an unlogged legacy ImageValidatingPolicy is refused, naming the fix', () => {
  expect(evidencePolicyProblem(readFileSync(`${DIR}key-no-log.yaml`, 'utf8'), 'legacy')).toMatch(
    /^Input "kyverno-policy": Kyverno 1.19's ImageValidatingPolicy refuses every legacy attestation .* Give attest-evidence a ClusterPolicy/,
  );
  expect(evidencePolicyProblem(readFileSync(`${DIR}key-sigstore-bundle-no-log.yaml`, 'utf8'), 'new')).toBeUndefined();
  expect(evidencePolicyProblem(readFileSync(`${DIR}key-imagevalidatingpolicy.yaml`, 'utf8'), 'legacy')).toBeUndefined();
  expect(evidencePolicyProblem(readFileSync(`${DIR}key.yaml`, 'utf8'), 'legacy')).toBeUndefined();
});

test('every -attestations copy in examples/kyverno is one of these', () => {
  expect(
    readdirSync(DIR)
      .filter((f) => f.endsWith('-attestations.yaml'))
      .sort(),
  ).toEqual(Object.keys(ATTESTED).sort());
});
