// The Kyverno policies sign-digest writes, both forms (ImageValidatingPolicy and ClusterPolicy), evaluated by the real
// Kyverno CLI (kyverno apply) against Pods whose images live in a real registry, signed by the real cosign v2 and v3:
// key-based, and keyless through a real Fulcio with the caller bound. Each policy is also checked against
// examples/kyverno: the same generator, the same options but for the test's image, signer and Sigstore instance.
// The CLI runs an ImageValidatingPolicy's validating half only (kubectl-kyverno apply calls HandleValidating, never
// HandleMutating): a Pod by tag is refused for want of a digest, as the validating webhook would refuse it; in a
// cluster the mutating webhook first rewrites the tag as image:tag@digest (MutateDigest), and that Pod is admitted.
import { readFileSync } from 'node:fs';
import {
  buildPolicy,
  defaultImageReferences,
  type PolicyKind,
  type PolicyOptions,
  policyYaml,
} from '@golden-image/signing';
import {
  githubClaims,
  type KyvernoOutcome,
  kyvernoApply,
  type OidcIssuer,
  realTool,
  startFulcio,
  startOidcIssuer,
  startRegistry,
  type TestFulcio,
  type TestRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { EXAMPLES } from '../../../packages/signing/test/examples.js';
import {
  cleanEnv,
  keyPair,
  pushImage,
  type RealCosign,
  realCosigns,
  runCosign,
  runSignDigest,
  useCosign,
} from './real-harness.js';

const kyverno = realTool('kyverno', ['version']);
const fulcioBin = kyverno ? realTool('fulcio', ['version']) : undefined;
const cosigns = kyverno ? realCosigns() : [];
const REUSABLE = 'golden-image/golden-image/.github/workflows/docker-publish.yml@refs/tags/v1';
const A = 'octo-org/app';
const B = 'evil-org/fork';

let registry: TestRegistry;
let issuer: OidcIssuer | undefined;
let fulcio: TestFulcio | undefined;
beforeAll(async () => {
  if (!kyverno) return;
  registry = await startRegistry();
  if (fulcioBin) {
    issuer = await startOidcIssuer();
    fulcio = await startFulcio(fulcioBin, issuer.url);
  }
});
afterAll(async () => {
  await Promise.all([registry?.stop(), fulcio?.stop(), issuer?.close()]);
});

/** Three digests of one repository (the policy names the repository): ours, someone else's, and an unsigned one. */
async function images(repository: string) {
  const seed = (name: string) => `${repository.replace(/\W/g, '-')}-${name}`;
  const ours = await pushImage(registry, repository, seed('ours'));
  const theirs = await pushImage(registry, repository, seed('theirs'));
  const unsigned = await pushImage(registry, repository, seed('unsigned'));
  return { ours, theirs, unsigned };
}

type Images = Awaited<ReturnType<typeof images>>;

/** By digest: ours admitted; theirs refused, saying why; unsigned refused. */
function expectByDigest(run: (image: string) => KyvernoOutcome, { ours, theirs, unsigned }: Images, refusal: RegExp) {
  const byDigest = run(`${ours.image}@${ours.digest}`);
  expect({ admitted: byDigest.admitted, why: byDigest.admitted ? '' : byDigest.output }).toEqual({
    admitted: true,
    why: '',
  });

  const theirsOutcome = run(`${theirs.image}@${theirs.digest}`);
  expect(theirsOutcome.admitted).toBe(false);
  expect(theirsOutcome.exitCode).not.toBe(0);
  expect(theirsOutcome.output).toMatch(refusal);

  const unsignedOutcome = run(`${unsigned.image}@${unsigned.digest}`);
  expect(unsignedOutcome.admitted).toBe(false);
  expect(unsignedOutcome.exitCode).not.toBe(0);
}

/** The four admission cases of the issue, with the policy sign-digest wrote for `ours`. */
function expectAdmission(policy: string, images: Images, refusal: RegExp) {
  if (/^kind: ImageValidatingPolicy$/m.test(policy)) return expectImageValidatingAdmission(policy, images, refusal);
  const { ours, theirs } = images;
  const run = (image: string, expectImage?: string) => kyvernoApply(kyverno as string, policy, image, { expectImage });
  expectByDigest(run, images, refusal);

  // by tag: admitted, and the Pod now names the verified digest
  const tag = `${ours.image}:${ours.tag}`;
  const byTag = run(tag, `*@${ours.digest}`);
  expect({ admitted: byTag.admitted, mutated: byTag.imageMatched, why: byTag.admitted ? '' : byTag.output }).toEqual({
    admitted: true,
    mutated: true,
    why: '',
  });
  // the probe can fail: the same tag checked against another digest does not match
  expect(run(tag, `*@${theirs.digest}`).imageMatched).toBe(false);
}

/** The same cases for an ImageValidatingPolicy, whose tag pinning the CLI cannot run (see the top of this file). */
function expectImageValidatingAdmission(policy: string, images: Images, refusal: RegExp) {
  const { ours, unsigned } = images;
  const run = (image: string) => kyvernoApply(kyverno as string, policy, image);
  const outcome = (image: string) => {
    const result = run(image);
    return { admitted: result.admitted, why: result.admitted ? '' : result.output };
  };
  expectByDigest(run, images, refusal);

  // by tag: the validating half refuses an unpinned tag (verifyDigest)...
  const tag = `${ours.image}:${ours.tag}`;
  const byTag = run(tag);
  expect(byTag.admitted).toBe(false);
  expect(byTag.output).toMatch(
    new RegExp(`image ${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not have a digest`),
  );
  // ...and admits the Pod as the mutating webhook rewrites it (image:tag@digest, the digest the tag resolves to)
  expect(outcome(`${tag}@${ours.digest}`)).toEqual({ admitted: true, why: '' });
  // the same tag pinned to an unsigned digest is refused: the digest decides, not the tag
  expect(run(`${tag}@${unsigned.digest}`).admitted).toBe(false);
}

/** The example file's form and options with the test's image, signer and instance: what sign-digest must have written. */
function fromExample(file: string, overrides: Partial<PolicyOptions>, image: string, kind?: PolicyKind): string {
  const example = EXAMPLES[file];
  if (!example) throw new Error(`no example ${file}`);
  return policyYaml(
    buildPolicy(kind ?? example.kind, {
      ...example.options,
      image,
      imageReferences: defaultImageReferences(image),
      ...overrides,
    }),
  );
}

const OFFLINE = { transparencyLog: false, ctLog: false };
const describeKyverno =
  kyverno && cosigns.length > 0 ? describe.each(cosigns) : describe.skip.each([{ name: 'v2', bin: '' } as RealCosign]);

describeKyverno('Kyverno, cosign $name', (cosign) => {
  let restore: () => void;
  beforeAll(() => {
    restore = useCosign(cosign);
  });
  afterAll(() => restore?.());

  const formats = cosign.name === 'v3' ? (['legacy', 'new'] as const) : (['legacy'] as const);
  test.each(formats)(
    'key-based, %s format: signed with the key -> admitted; by another key -> refused; unsigned -> refused; by tag -> admitted and pinned to the digest',
    async (format) => {
      const set = await images(`kyverno/key-${cosign.name}-${format}`);
      const { key, pub } = keyPair(cosign, 'kyverno');
      const env = cleanEnv(cosign, { COSIGN_PASSWORD: 'kyverno' });
      const signing = await runSignDigest(
        { image: set.ours.image, digest: set.ours.digest, key, 'bundle-format': format, 'transparency-log': 'false' },
        env,
      );
      expect(signing.error).toBeUndefined();
      // someone else signs another digest of the same repository
      const other = keyPair(cosign, 'other');
      const stranger = await runSignDigest(
        {
          image: set.theirs.image,
          digest: set.theirs.digest,
          key: other.key,
          'bundle-format': format,
          'transparency-log': 'false',
        },
        cleanEnv(cosign, { COSIGN_PASSWORD: 'other' }),
      );
      expect(stranger.error).toBeUndefined();

      // auto, a key without a transparency log: an ImageValidatingPolicy, legacy signature or bundle
      const policy = readFileSync(signing.recorded.outputs['kyverno-policy'] ?? '', 'utf8');
      const example = format === 'legacy' ? 'key-no-log.yaml' : 'key-sigstore-bundle-no-log.yaml';
      const overrides = { signer: { kind: 'key', pem: readFileSync(pub, 'utf8') }, instance: OFFLINE } as const;
      expect(signing.recorded.outputs['kyverno-policy-kind']).toBe('ImageValidatingPolicy');
      expect(policy).toBe(fromExample(example, overrides, set.ours.image));
      const clusterPolicy = /^kind: ClusterPolicy$/m.test(policy)
        ? policy
        : fromExample(example, overrides, set.ours.image, 'ClusterPolicy');
      const imageValidating = /^kind: ImageValidatingPolicy$/m.test(policy)
        ? policy
        : fromExample(example, overrides, set.ours.image, 'ImageValidatingPolicy');
      // both forms admit and refuse the same images
      expectAdmission(
        clusterPolicy,
        set,
        format === 'legacy' ? /no matching signatures|invalid signature/ : /no matching signatures found/,
      );
      expectAdmission(imageValidating, set, /must be signed by the signing key/);
    },
  );

  // cosign v2 only: defined for that cosign rather than skipped for the other (no skip to read past on CI)
  const v2Only = cosign.name === 'v2' ? test : () => undefined;
  v2Only(
    'a bundle signed by cosign 2.6.5 is invisible to Kyverno (why sign-digest signs bundles with v3 only)',
    async () => {
      const set = await images('kyverno/key-v2-bundle');
      const { key, pub } = keyPair(cosign, 'kyverno');
      const signed = runCosign(
        cosign,
        [
          'sign',
          '--yes',
          '--key',
          key,
          '--tlog-upload=false',
          '--new-bundle-format',
          `${set.ours.image}@${set.ours.digest}`,
        ],
        cleanEnv(cosign, { COSIGN_PASSWORD: 'kyverno' }),
      );
      expect(signed.status).toBe(0);
      const policy = fromExample(
        'key-sigstore-bundle.yaml',
        { signer: { kind: 'key', pem: readFileSync(pub, 'utf8') }, instance: OFFLINE },
        set.ours.image,
      );
      const outcome = kyvernoApply(kyverno as string, policy, `${set.ours.image}@${set.ours.digest}`);
      expect(outcome.admitted).toBe(false);
      expect(outcome.output).toMatch(/sigstore bundle verification failed: no matching signatures found/);
    },
  );

  (fulcioBin ? v2Only : test.skip)(
    'a keyless ImageValidatingPolicy cannot be evaluated offline: Kyverno fetches the Sigstore TUF root for every keyless attestor, roots given or not (why none is written for keyless, besides additionalExtensions)',
    async () => {
      const set = await images('kyverno/keyless-ivp');
      const env = cleanEnv(cosign, {
        ...(issuer as OidcIssuer).actionsEnv(githubClaims({ repository: A, reusableWorkflow: REUSABLE })),
        GITHUB_REPOSITORY: A,
      });
      const signing = await runSignDigest(
        {
          image: set.ours.image,
          digest: set.ours.digest,
          'fulcio-url': (fulcio as TestFulcio).url,
          'transparency-log': 'false',
          'ct-log': 'false',
          'certificate-chain': (fulcio as TestFulcio).chainFile,
        },
        env,
      );
      expect(signing.error).toBeUndefined();
      // what an ImageValidatingPolicy for this signer would be: the key form, its attestor made Kyverno's keyless one
      // with the same identity, issuer, source repository, roots and no logs as the ClusterPolicy sign-digest wrote
      const ivp = buildPolicy('ImageValidatingPolicy', {
        image: set.ours.image,
        imageReferences: defaultImageReferences(set.ours.image),
        bundleFormat: 'legacy',
        signer: { kind: 'key', pem: 'replaced below' },
      }) as { spec: { attestors: { name: string; cosign: unknown }[] } };
      ivp.spec.attestors = [
        {
          name: 'signer',
          cosign: {
            keyless: {
              identities: [{ subject: `https://github.com/${REUSABLE}`, issuer: (issuer as OidcIssuer).url }],
              additionalExtensions: { githubWorkflowRepository: A },
              roots: (fulcio as TestFulcio).chainPem,
            },
            ctlog: { insecureIgnoreTlog: true, insecureIgnoreSCT: true },
          },
        },
      ];
      const policy = policyYaml(ivp);
      const outcome = kyvernoApply(kyverno as string, policy, `${set.ours.image}@${set.ours.digest}`, {
        args: ['-v=6'],
      });
      expect(outcome.admitted).toBe(false);
      // Kyverno's own log (-v=6): the attestor never got to the signature
      expect(outcome.output).toMatch(
        /failed to build cosign verification opts: failed to initialize TUF client \(mirror=\\"https:\/\/tuf-repo-cdn\.sigstore\.dev\\"\)/,
      );
    },
  );

  (fulcioBin ? test : test.skip)(
    'keyless through the reusable workflow, legacy format, private Fulcio: signed by A -> admitted; signed by B through the same workflow -> refused; unsigned -> refused; by tag -> admitted and pinned',
    async () => {
      const set = await images(`kyverno/keyless-${cosign.name}`);
      const job = (repository: string) =>
        cleanEnv(cosign, {
          ...(issuer as OidcIssuer).actionsEnv(githubClaims({ repository, reusableWorkflow: REUSABLE })),
          GITHUB_REPOSITORY: repository,
        });
      const instance = {
        'fulcio-url': (fulcio as TestFulcio).url,
        'transparency-log': 'false',
        'ct-log': 'false',
        'certificate-chain': (fulcio as TestFulcio).chainFile,
      };
      const byA = await runSignDigest({ image: set.ours.image, digest: set.ours.digest, ...instance }, job(A));
      expect(byA.error).toBeUndefined();
      const byB = await runSignDigest({ image: set.theirs.image, digest: set.theirs.digest, ...instance }, job(B));
      expect(byB.error).toBeUndefined();
      // both certificates name the same workflow: only the source repository tells them apart
      expect(byB.recorded.outputs['certificate-identity']).toBe(byA.recorded.outputs['certificate-identity']);

      const policy = readFileSync(byA.recorded.outputs['kyverno-policy'] ?? '', 'utf8');
      expect(policy).toBe(
        fromExample(
          'keyless-private-instance.yaml',
          {
            signer: {
              kind: 'keyless',
              identity: `https://github.com/${REUSABLE}`,
              issuer: (issuer as OidcIssuer).url,
              match: 'exact',
              source: { repository: A },
            },
            instance: { ...OFFLINE, rootsPem: (fulcio as TestFulcio).chainPem },
          },
          set.ours.image,
        ),
      );
      expectAdmission(
        policy,
        set,
        /extension mismatch: expected octo-org\/app for key githubWorkflowRepository, received evil-org\/fork/,
      );
    },
  );
});
