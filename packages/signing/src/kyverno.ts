import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { BundleFormat, SourceBinding } from './args.js';

export const REKOR_URL = 'https://rekor.sigstore.dev';

/**
 * `exact`: the one workflow file at the one ref that signed. `any-ref`: that workflow file at any git ref.
 * `regexp`: the identity is the caller's own pattern (certificate-identity-regexp), written as given.
 */
export type IdentityMatch = 'exact' | 'any-ref' | 'regexp';

/** The two forms of admission policy the suite writes. */
export type PolicyKind = 'ImageValidatingPolicy' | 'ClusterPolicy';
/** What sign-digest's kyverno-policy-kind input takes: auto picks the form that binds the signer fully. */
export const POLICY_KIND_CHOICES = ['auto', 'ImageValidatingPolicy', 'ClusterPolicy'] as const;
export type PolicyKindChoice = (typeof POLICY_KIND_CHOICES)[number];

/**
 * Why Kyverno 1.19.1 cannot bind a keyless signer in an ImageValidatingPolicy, read from its source: the
 * ImageValidatingPolicy cosign attestor (pkg/image/verifiers/ivpol/cosign/opts.go, checkOptions) passes only subject,
 * issuer and their regular expressions to cosign; keyless.additionalExtensions is in the schema but read only on the
 * ClusterPolicy path (pkg/engine/internal/imageverifier.go). The source repository is therefore not checked.
 */
export const KEYLESS_IMAGE_VALIDATING_POLICY =
  "Kyverno 1.19's ImageValidatingPolicy checks a keyless signature by subject and issuer only: its cosign attestor never " +
  'reads keyless.additionalExtensions, so it cannot bind the source repository (githubWorkflowRepository), and a ' +
  'signature made by any repository that runs the same workflow file (every caller of a reusable workflow) would pass';

/**
 * Why Kyverno 1.19.1's ImageValidatingPolicy refuses every attestation verified without a transparency log, read from
 * its source and seen with its CLI: its cosign attestor (pkg/image/verifiers/ivpol/cosign/verifier.go) accepts an
 * unlogged image signature when the attestor says insecureIgnoreTlog, but fails VerifyAttestationSignature with
 * "cosign bundle verification failed" whenever cosign reports the log unverified, which for legacy attestations it
 * always does when the log is ignored (a Sigstore bundle counts as verified once the bundle itself verifies).
 */
export const UNLOGGED_ATTESTATIONS_IMAGE_VALIDATING_POLICY =
  "Kyverno 1.19's ImageValidatingPolicy refuses every legacy attestation it verifies without a transparency log (its " +
  "cosign attestor fails the attestation with 'cosign bundle verification failed' whenever the log is ignored; only the " +
  'image signature has that exception), so with transparency-log: false and the evidence required it would refuse ' +
  'every image, the clean ones too';

/** What decides the form: the signer, the format, the log, and whether attest-evidence will require the evidence. */
export interface PolicyContext {
  signer: 'key' | 'keyless';
  bundleFormat: BundleFormat;
  transparencyLog: boolean;
  /** attest-evidence will add the SBOM and scan-result conditions (the root action knows; sign-digest assumes not). */
  evidence?: boolean;
}

/**
 * The form to write, or none, or why the one asked for cannot be. auto writes an ImageValidatingPolicy only where the
 * real Kyverno 1.19 CLI has been seen, offline, to admit and refuse what the ClusterPolicy admits and refuses: a key
 * with no transparency log (legacy signatures, Sigstore bundles), except legacy signatures whose evidence is required
 * (UNLOGGED_ATTESTATIONS_IMAGE_VALIDATING_POLICY). Elsewhere a ClusterPolicy: keyless (only it binds the source
 * repository), and a key with the log on (the CLI fetches Sigstore's TUF root for either form then, so neither could be
 * evaluated here; by Kyverno's source both bind the key and the log alike). None for keyless bundles (neither form can
 * bind the source repository).
 */
export function choosePolicyKind(
  choice: PolicyKindChoice,
  context: PolicyContext,
): { kind?: PolicyKind; refused?: string } {
  const { signer, bundleFormat, transparencyLog, evidence } = context;
  const unloggedEvidence = signer === 'key' && bundleFormat === 'legacy' && !transparencyLog && Boolean(evidence);
  if (choice === 'ImageValidatingPolicy') {
    if (signer === 'keyless') return { refused: KEYLESS_IMAGE_VALIDATING_POLICY };
    if (unloggedEvidence) return { refused: UNLOGGED_ATTESTATIONS_IMAGE_VALIDATING_POLICY };
  }
  if (signer === 'keyless' && bundleFormat === 'new') return {};
  if (choice !== 'auto') return { kind: choice };
  const imageValidating = signer === 'key' && !transparencyLog && !unloggedEvidence;
  return { kind: imageValidating ? 'ImageValidatingPolicy' : 'ClusterPolicy' };
}

export type PolicySigner =
  | { kind: 'keyless'; identity: string; issuer: string; match: IdentityMatch; source?: SourceBinding }
  | { kind: 'key'; pem?: string; kms?: string };

/** The Sigstore instance, as the policy needs it: the public-good one when absent. */
export interface PolicyInstance {
  /** PEM of the Fulcio CA chain (keyless attestor `roots`). */
  rootsPem?: string;
  rekorUrl?: string;
  transparencyLog: boolean;
  ctLog: boolean;
}

export interface PolicyOptions {
  image: string;
  imageReferences: readonly string[];
  bundleFormat: BundleFormat;
  signer: PolicySigner;
  instance?: PolicyInstance;
  name?: string;
}

/**
 * Kyverno matches imageReferences as globs against the full reference a Pod names. `image` alone would miss
 * `image:tag` and `image@sha256:…`; `image*` would also catch other repositories (`image-debug`). So: the bare name,
 * any tag, any digest.
 */
export function defaultImageReferences(image: string): string[] {
  return [image, `${image}:*`, `${image}@*`];
}

/** Escapes every regular-expression metacharacter (RE2 and JavaScript agree on these). */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** `https://github.com/o/r/.github/workflows/x.yml@refs/heads/main` → a pattern for that workflow file at any ref. */
export function anyRefPattern(identity: string): string {
  const at = identity.lastIndexOf('@');
  const workflow = at === -1 ? identity : identity.slice(0, at);
  return `^${escapeRegExp(workflow)}@refs/.+$`;
}

/** A DNS-1123 name of at most 63 characters (Kyverno's limit for policy names), unique per image. */
export function policyName(image: string): string {
  const base = `verify-${image}`.replace(/[^a-z0-9]+/g, '-').replace(/-+$/, '');
  if (base.length <= 63) return base;
  const hash = createHash('sha256').update(image).digest('hex').slice(0, 8);
  return `${base.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

/**
 * The certificate extensions Kyverno checks besides subject and issuer (its names for Fulcio's GitHub workflow
 * repository, ref and trigger extensions, OIDs 1.3.6.1.4.1.57264.1.5, .6 and .2). Kyverno matches them as globs;
 * GitHub forbids * and ? in repository names and git in ref names, and event names hold neither.
 */
export function sourceExtensions(source: SourceBinding | undefined): Record<string, string> | undefined {
  const extensions: Record<string, string> = {};
  if (source?.repository) extensions.githubWorkflowRepository = source.repository;
  if (source?.ref) extensions.githubWorkflowRef = source.ref;
  if (source?.trigger) extensions.githubWorkflowTrigger = source.trigger;
  return Object.keys(extensions).length > 0 ? extensions : undefined;
}

function rekorOf(instance: PolicyInstance | undefined): Record<string, unknown> {
  if (instance && !instance.transparencyLog) return { url: instance.rekorUrl ?? REKOR_URL, ignoreTlog: true };
  return { url: instance?.rekorUrl ?? REKOR_URL };
}

function keylessEntry(
  signer: Extract<PolicySigner, { kind: 'keyless' }>,
  instance: PolicyInstance | undefined,
): Record<string, unknown> {
  // Kyverno reads `subject` as a glob: an identity holding * or ? must go through an escaped regular expression.
  const subject =
    signer.match === 'regexp'
      ? { subjectRegExp: signer.identity }
      : signer.match === 'any-ref' || /[*?]/.test(signer.identity)
        ? {
            subjectRegExp:
              signer.match === 'any-ref' ? anyRefPattern(signer.identity) : `^${escapeRegExp(signer.identity)}$`,
          }
        : { subject: signer.identity };
  const additionalExtensions = sourceExtensions(signer.source);
  return {
    keyless: {
      ...subject,
      issuer: signer.issuer,
      ...(additionalExtensions ? { additionalExtensions } : {}),
      ...(instance?.rootsPem ? { roots: `${instance.rootsPem.trim()}\n` } : {}),
      rekor: rekorOf(instance),
      ...(instance && !instance.ctLog ? { ctlog: { ignoreSCT: true } } : {}),
    },
  };
}

function keyEntry(
  signer: Extract<PolicySigner, { kind: 'key' }>,
  instance: PolicyInstance | undefined,
): Record<string, unknown> {
  const rekor = rekorOf(instance);
  // A key-signed legacy signature has no certificate, so no SCT; Kyverno only asks for one with keyless.
  const ctlog = instance && !instance.transparencyLog ? { ctlog: { ignoreSCT: true } } : {};
  if (signer.kms) return { keys: { kms: signer.kms, rekor, ...ctlog } };
  return { keys: { publicKeys: `${(signer.pem ?? '').trim()}\n`, rekor, ...ctlog } };
}

/** The ClusterPolicy, shaped like Kyverno's own conformance policies (kyverno.io/v1, per-rule failureAction). */
export function buildClusterPolicy(options: PolicyOptions): Record<string, unknown> {
  if (options.signer.kind === 'keyless' && options.bundleFormat === 'new') {
    // Kyverno 1.19's SigstoreBundle path checks a keyless bundle's subject and issuer only (additionalExtensions are
    // not read there) against the public-good TUF trust root only (roots are not read): it cannot bind the caller.
    throw new Error('A keyless type: SigstoreBundle policy cannot bind the source repository; write none.');
  }
  const entry =
    options.signer.kind === 'keyless'
      ? keylessEntry(options.signer, options.instance)
      : keyEntry(options.signer, options.instance);
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: metadataOf(options),
    spec: {
      webhookTimeoutSeconds: 30,
      rules: [
        {
          name: 'verify-signature',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [
            {
              imageReferences: [...options.imageReferences],
              type: options.bundleFormat === 'new' ? 'SigstoreBundle' : 'Cosign',
              failureAction: 'Enforce',
              mutateDigest: true,
              verifyDigest: true,
              required: true,
              attestors: [{ entries: [entry] }],
            },
          ],
        },
      ],
    },
  };
}

function metadataOf(options: PolicyOptions): Record<string, unknown> {
  const signer = options.signer;
  const signedBy =
    signer.kind === 'keyless'
      ? `${signer.match === 'regexp' ? 'an identity matching ' : ''}${signer.identity} (issuer ${signer.issuer})${signer.source?.repository ? ` run by ${signer.source.repository}` : ''}`
      : 'the signing key';
  return {
    name: options.name ?? policyName(options.image),
    annotations: {
      'policies.kyverno.io/title': `Verify ${options.image}`,
      'policies.kyverno.io/category': 'Software Supply Chain Security',
      'policies.kyverno.io/description': `Admits ${options.image} only when signed by ${signedBy}; generated by golden-image sign-digest.`,
    },
  };
}

/** The ImageValidatingPolicy's one attestor, named for its validations. */
export const IVP_ATTESTOR = 'signer';

/**
 * A CEL expression true when `predicate` holds for every image of the Pod this policy matched (containers, init and
 * ephemeral containers; the policy's own variable, since `images` is keyed by kind of container).
 */
export function everyImage(predicate: string): string {
  return `variables.podImages.all(image, ${predicate})`;
}

function ivpKey(signer: Extract<PolicySigner, { kind: 'key' }>, instance: PolicyInstance | undefined) {
  // With no log, nothing is fetched: Kyverno skips TUF, Rekor and the CT log for a key with insecureIgnoreTlog.
  const ctlog =
    instance && !instance.transparencyLog ? { insecureIgnoreTlog: true } : { url: instance?.rekorUrl ?? REKOR_URL };
  const key = signer.kms ? { kms: signer.kms } : { data: `${(signer.pem ?? '').trim()}\n` };
  return { key, ctlog };
}

/**
 * The ImageValidatingPolicy (policies.kyverno.io/v1, Kyverno 1.14+; the form Kyverno 1.19 asks for), binding what the
 * ClusterPolicy binds for a key: the key, Rekor (or no log), the image by name, tag or digest, a tag pinned to the
 * verified digest by the mutating webhook (mutateDigest), a digest required at validation (verifyDigest), every matched
 * image verified (required), Deny on failure. Keyless signers are refused (KEYLESS_IMAGE_VALIDATING_POLICY).
 */
export function buildImageValidatingPolicy(options: PolicyOptions): Record<string, unknown> {
  const signer = options.signer;
  if (signer.kind === 'keyless') throw new Error(KEYLESS_IMAGE_VALIDATING_POLICY);
  return {
    apiVersion: 'policies.kyverno.io/v1',
    kind: 'ImageValidatingPolicy',
    metadata: metadataOf(options),
    spec: {
      webhookConfiguration: { timeoutSeconds: 30 },
      failurePolicy: 'Fail',
      validationActions: ['Deny'],
      matchConstraints: {
        resourceRules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] },
        ],
      },
      matchImageReferences: options.imageReferences.map((glob) => ({ glob })),
      validationConfigurations: { mutateDigest: true, verifyDigest: true, required: true },
      variables: [
        { name: 'podImages', expression: 'images.containers + images.initContainers + images.ephemeralContainers' },
      ],
      attestors: [{ name: IVP_ATTESTOR, cosign: ivpKey(signer, options.instance) }],
      validations: [
        {
          expression: everyImage(`verifyImageSignatures(image, [attestors.${IVP_ATTESTOR}]) > 0`),
          message: `${options.image} must be signed by the signing key (${options.bundleFormat === 'new' ? 'a Sigstore bundle' : 'a cosign signature'}); this image is not`,
        },
      ],
    },
  };
}

/** The policy of the chosen form. */
export function buildPolicy(kind: PolicyKind, options: PolicyOptions): Record<string, unknown> {
  return kind === 'ImageValidatingPolicy' ? buildImageValidatingPolicy(options) : buildClusterPolicy(options);
}

export function policyYaml(policy: Record<string, unknown>): string {
  return stringify(policy, { lineWidth: 0 });
}
