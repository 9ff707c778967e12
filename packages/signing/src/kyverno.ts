import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { BundleFormat, SourceBinding } from './args.js';

export const REKOR_URL = 'https://rekor.sigstore.dev';

/** `exact`: the one workflow file at the one ref that signed. `any-ref`: that workflow file at any git ref. */
export type IdentityMatch = 'exact' | 'any-ref';

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
    signer.match === 'any-ref' || /[*?]/.test(signer.identity)
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
  const source = options.signer.kind === 'keyless' ? options.signer.source : undefined;
  const signedBy =
    options.signer.kind === 'keyless'
      ? `${options.signer.identity} (issuer ${options.signer.issuer})${source?.repository ? ` run by ${source.repository}` : ''}`
      : 'the signing key';
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: {
      name: options.name ?? policyName(options.image),
      annotations: {
        'policies.kyverno.io/title': `Verify ${options.image}`,
        'policies.kyverno.io/category': 'Software Supply Chain Security',
        'policies.kyverno.io/description': `Admits ${options.image} only when signed by ${signedBy}; generated by golden-image sign-digest.`,
      },
    },
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

export function policyYaml(policy: Record<string, unknown>): string {
  return stringify(policy, { lineWidth: 0 });
}
