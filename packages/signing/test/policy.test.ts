import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import {
  anyRefPattern,
  buildClusterPolicy,
  buildImageValidatingPolicy,
  choosePolicyKind,
  defaultImageReferences,
  escapeRegExp,
  type PolicyOptions,
  policyName,
  policyYaml,
} from '../src/index.js';

const KYVERNO = fileURLToPath(new URL('../../../test/fixtures/third-party/kyverno/', import.meta.url));
const crd = parse(readFileSync(`${KYVERNO}clusterpolicies.crd.yaml`, 'utf8'));
const served = crd.spec.versions.find((v: { name: string; storage: boolean }) => v.storage);
const schema = served.schema.openAPIV3Schema;

/**
 * The API server prunes unknown fields silently; `kubectl apply --validate=strict` rejects them. This copy of the
 * schema does the latter, so a misspelt field (mutateDigests) fails the test instead of vanishing.
 */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (!node || typeof node !== 'object') return node;
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) copy[k] = strict(v);
  if (
    copy.type === 'object' &&
    copy.properties &&
    !('additionalProperties' in copy) &&
    !copy['x-kubernetes-preserve-unknown-fields']
  ) {
    copy.additionalProperties = false;
  }
  return copy;
}

// strict: false lets the x-kubernetes-* keywords through; the formats are Kubernetes' own.
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31 });
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
ajv.addFormat('date-time', (text: string) => !Number.isNaN(Date.parse(text)));
const validate = ajv.compile(schema);
const validateStrict = ajv.compile(strict(schema) as object);

function errorsOf(policy: unknown): string {
  const ok = validate(policy) && validateStrict(policy);
  return ok ? '' : ajv.errorsText([...(validate.errors ?? []), ...(validateStrict.errors ?? [])]);
}

// The ImageValidatingPolicy CRD of Kyverno 1.19.1; the suite writes its v1 (served, GA) version.
const ivpCrd = parse(readFileSync(`${KYVERNO}imagevalidatingpolicies.crd.yaml`, 'utf8'));
const ivpV1 = ivpCrd.spec.versions.find((v: { name: string }) => v.name === 'v1');
const validateIvp = ajv.compile(ivpV1.schema.openAPIV3Schema);
const validateIvpStrict = ajv.compile(strict(ivpV1.schema.openAPIV3Schema) as object);

function ivpErrorsOf(policy: unknown): string {
  const ok = validateIvp(policy) && validateIvpStrict(policy);
  return ok ? '' : ajv.errorsText([...(validateIvp.errors ?? []), ...(validateIvpStrict.errors ?? [])]);
}

/** Either form, by its kind. */
function anyErrorsOf(policy: { kind?: string }): string {
  return policy.kind === 'ImageValidatingPolicy' ? ivpErrorsOf(policy) : errorsOf(policy);
}

const image = 'ghcr.io/octo-org/app';
const identity = 'https://github.com/octo-org/app/.github/workflows/release.yml@refs/heads/main';
const issuer = 'https://token.actions.githubusercontent.com';
const PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEabc\n-----END PUBLIC KEY-----\n';

function policy(overrides: Partial<PolicyOptions>): Record<string, unknown> {
  // Round-trip through YAML: what is validated is what the file holds.
  const options: PolicyOptions = {
    image,
    imageReferences: defaultImageReferences(image),
    bundleFormat: 'legacy',
    signer: { kind: 'keyless', identity, issuer, match: 'exact' },
    ...overrides,
  };
  return parse(policyYaml(buildClusterPolicy(options)));
}

// biome-ignore lint/suspicious/noExplicitAny: walking parsed YAML
const verifyImagesOf = (p: any) => p.spec.rules[0].verifyImages[0];

describe('Kyverno ClusterPolicy', () => {
  test('the schema is the served storage version, v1, and rejects what it should (the check can fail)', () => {
    expect(served.name).toBe('v1');
    const bad = policy({});
    verifyImagesOf(bad).type = 'Cosign2';
    expect(validate(bad)).toBe(false);
    const misspelt = policy({});
    verifyImagesOf(misspelt).mutateDigests = true;
    expect(validate(misspelt)).toBe(true); // the API server would prune it silently...
    expect(validateStrict(misspelt)).toBe(false); // ...strict validation catches it
  });

  test('keyless, legacy signature: type Cosign, exact subject and issuer, Rekor, digest rules, Enforce', () => {
    const p = policy({});
    expect(errorsOf(p)).toBe('');
    const vi = verifyImagesOf(p);
    expect(vi).toEqual({
      imageReferences: [image, `${image}:*`, `${image}@*`],
      type: 'Cosign',
      failureAction: 'Enforce',
      mutateDigest: true,
      verifyDigest: true,
      required: true,
      attestors: [
        { entries: [{ keyless: { subject: identity, issuer, rekor: { url: 'https://rekor.sigstore.dev' } } }] },
      ],
    });
  });

  test('keyless, new bundle: refused (Kyverno reads neither additionalExtensions nor roots on that path); key-based: type SigstoreBundle', () => {
    expect(() => policy({ bundleFormat: 'new' })).toThrow(/cannot bind the source repository/);
    const p = policy({ bundleFormat: 'new', signer: { kind: 'key', pem: PEM } });
    expect(errorsOf(p)).toBe('');
    expect(verifyImagesOf(p).type).toBe('SigstoreBundle');
  });

  test('keyless bound to a source repository, ref and trigger, on a private instance: additionalExtensions, roots, rekor, ctlog', () => {
    const roots = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const p = policy({
      signer: {
        kind: 'keyless',
        identity,
        issuer,
        match: 'exact',
        source: { repository: 'octo-org/app', ref: 'refs/heads/main', trigger: 'push' },
      },
      instance: { rootsPem: roots, rekorUrl: 'https://rekor.internal.example', transparencyLog: false, ctLog: false },
    });
    expect(errorsOf(p)).toBe('');
    expect(verifyImagesOf(p).attestors[0].entries[0].keyless).toEqual({
      subject: identity,
      issuer,
      additionalExtensions: {
        githubWorkflowRepository: 'octo-org/app',
        githubWorkflowRef: 'refs/heads/main',
        githubWorkflowTrigger: 'push',
      },
      roots,
      rekor: { url: 'https://rekor.internal.example', ignoreTlog: true },
      ctlog: { ignoreSCT: true },
    });
  });

  test('key-based: keys.publicKeys holds the PEM; a KMS key is named by URI', () => {
    const withPem = policy({ signer: { kind: 'key', pem: PEM } });
    expect(errorsOf(withPem)).toBe('');
    expect(verifyImagesOf(withPem).attestors[0].entries[0].keys.publicKeys).toBe(PEM);
    const kms = policy({ signer: { kind: 'key', kms: 'awskms:///alias/release' } });
    expect(errorsOf(kms)).toBe('');
    expect(verifyImagesOf(kms).attestors[0].entries[0].keys).toEqual({
      kms: 'awskms:///alias/release',
      rekor: { url: 'https://rekor.sigstore.dev' },
    });
  });

  test('any-ref: an escaped subjectRegExp, valid against the schema', () => {
    const p = policy({ signer: { kind: 'keyless', identity, issuer, match: 'any-ref' } });
    expect(errorsOf(p)).toBe('');
    const keyless = verifyImagesOf(p).attestors[0].entries[0].keyless;
    expect(keyless.subject).toBeUndefined();
    expect(keyless.subjectRegExp).toBe('^https://github\\.com/octo-org/app/\\.github/workflows/release\\.yml@refs/.+$');
  });

  test("has the shape of Kyverno's own conformance policies", () => {
    for (const file of [
      'conformance-keyless-mutatedigest-verifydigest-required.policy.yaml',
      'conformance-sigstore-image-verification-test.policy.yaml',
    ]) {
      const conformance = parse(readFileSync(`${KYVERNO}${file}`, 'utf8'));
      expect(errorsOf(conformance)).toBe(''); // the yardstick itself passes the same validation
      const ours = policy({});
      expect(ours.apiVersion).toBe(conformance.apiVersion);
      expect(ours.kind).toBe(conformance.kind);
      // biome-ignore lint/suspicious/noExplicitAny: parsed YAML
      const [theirRule, ourRule] = [conformance.spec.rules[0], (ours as any).spec.rules[0]];
      expect(ourRule.match).toEqual(theirRule.match);
      const theirs = theirRule.verifyImages[0];
      const mine = ourRule.verifyImages[0];
      for (const key of Object.keys(theirs)) expect(mine).toHaveProperty(key);
      const theirEntry = theirs.attestors[0].entries[0].keyless;
      const myEntry = mine.attestors[0].entries[0].keyless;
      for (const key of ['issuer', 'subject', 'rekor']) expect(myEntry).toHaveProperty(key);
      expect(myEntry.rekor).toEqual(theirEntry.rekor);
      expect(myEntry.issuer).toBe(theirEntry.issuer);
    }
  });

  test('every example in examples/kyverno validates too, each against the schema of its kind', () => {
    const dir = fileURLToPath(new URL('../../../examples/kyverno/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    const kinds = new Set<string>();
    for (const file of files) {
      const policy = parse(readFileSync(`${dir}${file}`, 'utf8'));
      kinds.add(policy.kind);
      expect(`${file}: ${anyErrorsOf(policy)}`).toBe(`${file}: `);
    }
    expect([...kinds].sort()).toEqual(['ClusterPolicy', 'ImageValidatingPolicy']);
  });

  test('a policy name is a DNS label of at most 63 characters, distinct per image', () => {
    expect(policyName(image)).toBe('verify-ghcr-io-octo-org-app');
    const long = `ghcr.io/${'a'.repeat(80)}/b`;
    const other = `ghcr.io/${'a'.repeat(80)}/c`;
    expect(policyName(long)).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    expect(policyName(long)).not.toBe(policyName(other));
    expect(errorsOf(policy({ image: long, imageReferences: defaultImageReferences(long) }))).toBe('');
  });
});

describe('Kyverno ImageValidatingPolicy', () => {
  const ivp = (overrides: Partial<PolicyOptions>) =>
    parse(
      policyYaml(
        buildImageValidatingPolicy({
          image,
          imageReferences: defaultImageReferences(image),
          bundleFormat: 'legacy',
          signer: { kind: 'key', pem: PEM },
          ...overrides,
        }),
      ),
    );

  test('the schema is v1 of Kyverno 1.19.1 and rejects what it should (the check can fail)', () => {
    expect(ivpV1.served).toBe(true);
    const bad = ivp({});
    bad.spec.validationActions = ['Enforce'];
    expect(validateIvp(bad)).toBe(false);
    const misspelt = ivp({});
    misspelt.spec.validationConfigurations.mutateDigests = true;
    expect(validateIvpStrict(misspelt)).toBe(false);
  });

  test('a key, legacy signature: Pods only, the image by name, tag or digest, pinned, digest required, verified, Deny', () => {
    const p = ivp({});
    expect(ivpErrorsOf(p)).toBe('');
    expect(p.apiVersion).toBe('policies.kyverno.io/v1');
    expect(p.spec).toEqual({
      webhookConfiguration: { timeoutSeconds: 30 },
      failurePolicy: 'Fail',
      validationActions: ['Deny'],
      matchConstraints: {
        resourceRules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] },
        ],
      },
      matchImageReferences: [{ glob: image }, { glob: `${image}:*` }, { glob: `${image}@*` }],
      validationConfigurations: { mutateDigest: true, verifyDigest: true, required: true },
      variables: [
        { name: 'podImages', expression: 'images.containers + images.initContainers + images.ephemeralContainers' },
      ],
      attestors: [{ name: 'signer', cosign: { key: { data: PEM }, ctlog: { url: 'https://rekor.sigstore.dev' } } }],
      validations: [
        {
          expression: 'variables.podImages.all(image, verifyImageSignatures(image, [attestors.signer]) > 0)',
          message: `${image} must be signed by the signing key (a cosign signature); this image is not`,
        },
      ],
    });
  });

  test('no transparency log: insecureIgnoreTlog (Kyverno then fetches nothing); a private Rekor; a KMS key by URI', () => {
    expect(ivp({ instance: { transparencyLog: false, ctLog: false } }).spec.attestors[0].cosign.ctlog).toEqual({
      insecureIgnoreTlog: true,
    });
    const rekor = ivp({ instance: { transparencyLog: true, ctLog: true, rekorUrl: 'https://rekor.internal.example' } });
    expect(rekor.spec.attestors[0].cosign.ctlog).toEqual({ url: 'https://rekor.internal.example' });
    const kms = ivp({ signer: { kind: 'key', kms: 'awskms:///alias/release' } });
    expect(ivpErrorsOf(kms)).toBe('');
    expect(kms.spec.attestors[0].cosign.key).toEqual({ kms: 'awskms:///alias/release' });
    expect(ivpErrorsOf(ivp({ bundleFormat: 'new' }))).toBe('');
  });

  test('keyless is refused: Kyverno 1.19 reads no additionalExtensions there, so it cannot bind the source repository', () => {
    expect(() => ivp({ signer: { kind: 'keyless', identity, issuer, match: 'exact' } })).toThrow(
      /never reads keyless.additionalExtensions.*every caller of a reusable workflow/,
    );
  });

  test('auto: an ImageValidatingPolicy where the real Kyverno CLI verified it offline as the ClusterPolicy; a ClusterPolicy elsewhere; none for keyless bundles', () => {
    const key = { signer: 'key', transparencyLog: false } as const;
    const choose = (
      choice: 'auto' | 'ImageValidatingPolicy' | 'ClusterPolicy',
      context: Parameters<typeof choosePolicyKind>[1],
    ) => choosePolicyKind(choice, context);
    // a key, no log: legacy signatures and bundles; not legacy attestations (Kyverno refuses them unlogged)
    expect(choose('auto', { ...key, bundleFormat: 'legacy' })).toEqual({ kind: 'ImageValidatingPolicy' });
    expect(choose('auto', { ...key, bundleFormat: 'new' })).toEqual({ kind: 'ImageValidatingPolicy' });
    expect(choose('auto', { ...key, bundleFormat: 'new', evidence: true })).toEqual({ kind: 'ImageValidatingPolicy' });
    expect(choose('auto', { ...key, bundleFormat: 'legacy', evidence: true })).toEqual({ kind: 'ClusterPolicy' });
    expect(choose('ImageValidatingPolicy', { ...key, bundleFormat: 'legacy', evidence: true }).refused).toMatch(
      /refuses every legacy attestation it verifies without a transparency log/,
    );
    // a key with the log on: neither form can be evaluated offline (TUF), so the ClusterPolicy stays
    expect(choose('auto', { signer: 'key', transparencyLog: true, bundleFormat: 'legacy' })).toEqual({
      kind: 'ClusterPolicy',
    });
    expect(choose('ImageValidatingPolicy', { signer: 'key', transparencyLog: true, bundleFormat: 'legacy' })).toEqual({
      kind: 'ImageValidatingPolicy',
    });
    // keyless: only the ClusterPolicy binds the source repository; nothing binds it for keyless bundles
    const keyless = { signer: 'keyless', transparencyLog: true } as const;
    expect(choose('auto', { ...keyless, bundleFormat: 'legacy' })).toEqual({ kind: 'ClusterPolicy' });
    expect(choose('auto', { ...keyless, bundleFormat: 'new' })).toEqual({});
    expect(choose('ClusterPolicy', { ...keyless, bundleFormat: 'new' })).toEqual({});
    expect(choose('ImageValidatingPolicy', { ...keyless, bundleFormat: 'legacy' }).refused).toMatch(
      /additionalExtensions/,
    );
    expect(choose('ClusterPolicy', { ...key, bundleFormat: 'legacy' })).toEqual({ kind: 'ClusterPolicy' });
  });

  test("has the shape of Kyverno's own conformance ImageValidatingPolicy (cosign attestor, in-toto attestation, extractPayload)", () => {
    const conformance = parse(
      readFileSync(`${KYVERNO}conformance-ivpol-cosign-attestation-extract.policy.yaml`, 'utf8'),
    );
    expect(ivpErrorsOf({ ...conformance, apiVersion: 'policies.kyverno.io/v1' })).toBe('');
    const ours = ivp({});
    expect(ours.kind).toBe(conformance.kind);
    for (const key of ['webhookConfiguration', 'failurePolicy', 'validationActions', 'matchConstraints'])
      expect(ours.spec).toHaveProperty(key);
    expect(ours.spec.failurePolicy).toBe(conformance.spec.failurePolicy);
    expect(ours.spec.validationActions).toEqual(conformance.spec.validationActions);
    expect(ours.spec.matchConstraints.resourceRules[0].resources).toEqual(
      conformance.spec.matchConstraints.resourceRules[0].resources,
    );
    // its payload is read as extractPayload(...).predicate.<field>, as the suite's evidence validations read it
    expect(conformance.spec.validations[1].expression).toMatch(
      /extractPayload\(image, attestations\.slsa\)\.predicate\./,
    );
  });
});

describe('regular-expression escaping', () => {
  const tricky = [
    identity,
    'https://github.com/o/r/.github/workflows/a+b(c)[d]{e}|f^g$h?i*j\\k.yml@refs/heads/x',
    'https://github.com/o.r/x/.github/workflows/y.yml@refs/tags/v1.2.3',
  ];

  test.each(tricky)('^escape(s)$ matches %s and only it', (text) => {
    const re = new RegExp(`^${escapeRegExp(text)}$`);
    expect(re.test(text)).toBe(true);
    // every "." is literal: replacing any one of them with another character must not match
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '.') expect(re.test(`${text.slice(0, i)}X${text.slice(i + 1)}`)).toBe(false);
    }
    expect(re.test(`${text}x`)).toBe(false);
    expect(re.test(`x${text}`)).toBe(false);
  });

  test('any-ref admits the same workflow file at any ref, and nothing else', () => {
    const re = new RegExp(anyRefPattern(identity));
    const workflow = 'https://github.com/octo-org/app/.github/workflows/release.yml';
    expect(re.test(`${workflow}@refs/heads/main`)).toBe(true);
    expect(re.test(`${workflow}@refs/tags/v2.0.0`)).toBe(true);
    expect(re.test('https://githubXcom/octo-org/app/.github/workflows/release.yml@refs/heads/main')).toBe(false);
    expect(re.test('https://github.com/octo-org/app/.github/workflows/releaseXyml@refs/heads/main')).toBe(false);
    expect(re.test('https://github.com/octo-org/app/.github/workflows/release.yml.evil@refs/heads/main')).toBe(false);
    expect(
      re.test(
        'https://github.com/evil/x/https://github.com/octo-org/app/.github/workflows/release.yml@refs/heads/main',
      ),
    ).toBe(false);
    expect(re.test('https://github.com/octo-org/app-fork/.github/workflows/release.yml@refs/heads/main')).toBe(false);
  });

  test('a certificate-identity-regexp is written as given, as subjectRegExp', () => {
    const pattern = '^https://github\\.com/octo-org/[^/]+/\\.github/workflows/release\\.yml@refs/tags/v.+$';
    const p = policy({ signer: { kind: 'keyless', identity: pattern, issuer, match: 'regexp' } });
    expect(errorsOf(p)).toBe('');
    expect(verifyImagesOf(p).attestors[0].entries[0].keyless).toMatchObject({ subjectRegExp: pattern, issuer });
    expect(verifyImagesOf(p).attestors[0].entries[0].keyless.subject).toBeUndefined();
  });

  test('an identity holding a glob character is written as an anchored, escaped subjectRegExp, not a glob subject', () => {
    const odd = 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/feat*';
    const p = policy({ signer: { kind: 'keyless', identity: odd, issuer, match: 'exact' } });
    const keyless = verifyImagesOf(p).attestors[0].entries[0].keyless;
    expect(keyless.subject).toBeUndefined();
    expect(new RegExp(keyless.subjectRegExp).test(odd)).toBe(true);
    expect(new RegExp(keyless.subjectRegExp).test(`${odd.slice(0, -1)}ure`)).toBe(false);
  });
});
