import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ActionContext, UserError } from '@golden-image/kit';
import { isPublicGood, PUBLIC_GOOD, type Signer, type SigstoreInstance, type SourceBinding } from './args.js';
import type { Cosign } from './cosign.js';
import type { CosignVersion } from './cosign-abilities.js';
import {
  buildPolicy,
  choosePolicyKind,
  type IdentityMatch,
  KEYLESS_IMAGE_VALIDATING_POLICY,
  type PolicyInstance,
  type PolicyKind,
  type PolicyKindChoice,
  type PolicySigner,
  policyYaml,
} from './kyverno.js';
import type { ResolvedSigner } from './signer.js';
import { verifySignature } from './verify.js';

export interface SignDigestOptions {
  image: string;
  digest: string;
  recursive: boolean;
  /** Key reference or KMS URI; keyless when absent. */
  key?: string;
  verify: boolean;
  /**
   * Who signs, as signerFromInputs works it out. A promise is awaited while cosign signs: a key's public half is
   * derived (cosign public-key, which decrypts the key as cosign sign does) on the other core meanwhile.
   */
  signer: ResolvedSigner | Promise<ResolvedSigner>;
  /**
   * With recursive: the platform manifests to sign beside the digest (push-layout's platforms output), by name instead
   * of --recursive, which also signs every attestation manifest of the index (see signTargets).
   */
  platforms?: Record<string, string>;
  imageReferences: readonly string[];
  identityMatch: Exclude<IdentityMatch, 'regexp'>;
  /** The form of the Kyverno policy; auto when absent (choosePolicyKind). */
  policyKind?: PolicyKindChoice;
  /** Where to write it; $RUNNER_TEMP/sign-digest/kyverno-<kind>.yaml when absent. */
  policyFile?: string;
}

export interface SignDigestResult {
  imageRef: string;
  /** The platform manifests signed beside it by name (platforms given); empty with --recursive or a single manifest. */
  alsoSigned: string[];
  version: CosignVersion;
  signature: string;
  identity?: string;
  /** `identity` is a pattern (certificate-identity-regexp). */
  identityRegExp?: boolean;
  issuer?: string;
  /** Keyless: what every verification binds besides identity and issuer. */
  source?: SourceBinding;
  /** The workflow that called the reusable workflow that signed, when there is one. */
  caller?: string;
  /** Key-based: what `cosign verify --key` is given (an exported .pub file, or the KMS URI). */
  verifyKey?: string;
  verified: boolean;
  verifyCommand: string;
  policyFile: string;
  policy: string;
  /** The form written; absent when none was (keyless bundles). */
  policyKind?: PolicyKind;
  /** Things the caller should know, said in the summary too. */
  notes: string[];
}

/** Signs one digest in the cosign's format and instance, verifies it as its signer, and writes the Kyverno policy. */
export async function signDigest(
  ctx: ActionContext,
  cosign: Cosign,
  options: SignDigestOptions,
): Promise<SignDigestResult> {
  const resolving = Promise.resolve(options.signer);
  resolving.catch(() => undefined); // handled below, after signing; never an unhandled rejection meanwhile
  const imageRef = `${options.image}@${options.digest}`;
  const version = await cosign.version();
  ctx.info(`cosign ${version.text}`);
  await cosign.requireSigningFormat();
  const { kind, refused } = choosePolicyKind(options.policyKind ?? 'auto', {
    signer: options.key ? 'key' : 'keyless',
    bundleFormat: cosign.bundleFormat,
    transparencyLog: (cosign.setup.instance ?? PUBLIC_GOOD).transparencyLog,
  });
  if (refused) throw new UserError(`${policyKindProblem(refused)} Nothing was signed.`);

  const targets = signTargets(options);
  const what =
    targets.alsoSign.length > 0 ? `${imageRef} and ${targets.alsoSign.length} platform manifest(s)` : imageRef;
  // One cosign per reference, at once: cosign decrypts the key (scrypt) for every reference it signs, in one process
  // or not, so separate processes spread that over the cores (beside cosign public-key, which decrypts it too).
  const calls = await Promise.all(
    [imageRef, ...targets.alsoSign].map((ref) =>
      cosign.signArgs(ref, { recursive: targets.recursive, key: targets.key }),
    ),
  );
  const [resolved, signed] = await Promise.allSettled([
    resolving,
    ctx.group(`Signing ${what}`, () =>
      Promise.all(calls.map((args) => cosign.runChecked(args, `Signing ${args.at(-1)}`))),
    ),
  ]);
  // The key's own problem (a wrong COSIGN_PASSWORD: cosign public-key says so plainly) before cosign sign's.
  if (resolved.status === 'rejected') throw resolved.reason;
  if (signed.status === 'rejected') throw signed.reason;
  const { signer, publicKey, caller } = resolved.value;
  const notes = [...resolved.value.notes];
  await cosign.verifyInstance(signer);

  if (options.verify) {
    await ctx.group(`Verifying the signature of ${imageRef}`, () =>
      verifySignature(ctx, cosign, { imageRef, ...signerOptions(signer) }),
    );
  } else {
    ctx.warning('verify: false, so the signature was not checked after signing.');
  }

  let policy = '';
  let policyFile = '';
  const instance = cosign.setup.instance ?? PUBLIC_GOOD;
  if (!kind) {
    // Kyverno 1.19 verifies a keyless SigstoreBundle against subject and issuer only (additionalExtensions are not
    // read on that path) and only with the public-good TUF trust root (roots are not read either).
    notes.push(
      'No Kyverno policy was written: Kyverno verifies a keyless Sigstore bundle (ClusterPolicy type: SigstoreBundle, and any ImageValidatingPolicy) by subject and ' +
        'issuer only, ignoring additionalExtensions, so it cannot tell your signatures from those of any other ' +
        'repository that runs the same workflow file, and it ignores roots (public-good trust root only). Sign with ' +
        'bundle-format: legacy for Kyverno admission (type: Cosign binds the source repository).',
    );
  } else {
    const policySigner: PolicySigner =
      signer.key === undefined
        ? {
            kind: 'keyless',
            identity: signer.identity,
            issuer: signer.issuer,
            match: signer.identityRegExp ? 'regexp' : options.identityMatch,
            source: signer.source,
          }
        : { kind: 'key', pem: publicKey?.pem, kms: publicKey?.kms };
    policy = policyYaml(
      buildPolicy(kind, {
        image: options.image,
        imageReferences: options.imageReferences,
        bundleFormat: cosign.bundleFormat,
        signer: policySigner,
        instance: policyInstance(instance),
      }),
    );
    policyFile = options.policyFile ?? join(ctx.tempDir, 'sign-digest', `kyverno-${kind.toLowerCase()}.yaml`);
    mkdirSync(dirname(policyFile), { recursive: true });
    writeFileSync(policyFile, policy);
  }

  return {
    imageRef,
    alsoSigned: targets.alsoSign,
    version,
    signature: cosign.signatureLocation(options.image, options.digest),
    identity: signer.identity,
    ...(signer.identityRegExp ? { identityRegExp: true } : {}),
    issuer: signer.issuer,
    source: signer.source,
    caller,
    verifyKey: signer.key,
    verified: options.verify,
    verifyCommand: await cosign.verifyCommand(imageRef, signer),
    policyFile,
    policy,
    ...(policy ? { policyKind: kind } : {}),
    notes,
  };
}

/**
 * What sign-digest signs. recursive with the platforms known: the digest and each platform manifest, named (each by
 * its own cosign, at once; cosign loads the key once per reference either way). recursive without them: --recursive, which walks
 * the index and also signs BuildKit's attestation manifests (platform unknown/unknown): nothing runs them, nothing
 * checks their signatures (the admission policies and promote-tags verify the digest a Pod or a tag names), and the
 * index's signature already covers their digests, so signing them only costs a key load and an upload each.
 */
export function signTargets(options: Pick<SignDigestOptions, 'image' | 'digest' | 'recursive' | 'platforms' | 'key'>): {
  recursive: boolean;
  key?: string;
  alsoSign: string[];
} {
  if (!options.recursive || !options.platforms) return { recursive: options.recursive, key: options.key, alsoSign: [] };
  const children = [...new Set(Object.values(options.platforms))].filter((digest) => digest !== options.digest);
  return { recursive: false, key: options.key, alsoSign: children.map((digest) => `${options.image}@${digest}`) };
}

/** The refusal of kyverno-policy-kind: ImageValidatingPolicy for a keyless signer, naming the input and the fix. */
export function policyKindProblem(refused: string): string {
  const keyless = refused === KEYLESS_IMAGE_VALIDATING_POLICY;
  return (
    `Input "kyverno-policy-kind": ImageValidatingPolicy cannot be written ${keyless ? 'for a keyless signature' : 'here'}. ${refused}. ` +
    (keyless
      ? 'Use kyverno-policy-kind: auto or ClusterPolicy (its keyless attestor checks additionalExtensions), or sign with a key.'
      : 'Use kyverno-policy-kind: auto or ClusterPolicy, or sign with a transparency log, or as Sigstore bundles (bundle-format: new).')
  );
}

/** What the policy needs of the instance: the CA chain's PEM text (the file is read here), never a path. */
function policyInstance(instance: SigstoreInstance): PolicyInstance | undefined {
  if (isPublicGood(instance)) return undefined;
  let rootsPem: string | undefined;
  if (instance.certificateChain) rootsPem = readFileSync(instance.certificateChain, 'utf8');
  else if (instance.trustedRoot) rootsPem = fulcioChainOf(instance.trustedRoot);
  return { rootsPem, rekorUrl: instance.rekorUrl, transparencyLog: instance.transparencyLog, ctLog: instance.ctLog };
}

/** The certificate authorities of a Sigstore trusted-root JSON file, as PEM (each certChain, leaf-most first). */
export function fulcioChainOf(trustedRootFile: string): string {
  let parsed: { certificateAuthorities?: { certChain?: { certificates?: { rawBytes?: string }[] } }[] };
  try {
    parsed = JSON.parse(readFileSync(trustedRootFile, 'utf8'));
  } catch (error) {
    throw new UserError(
      `Input "trusted-root": ${trustedRootFile} is not a readable JSON file: ${(error as Error).message}`,
    );
  }
  const pems = (parsed.certificateAuthorities ?? []).flatMap((ca) =>
    (ca.certChain?.certificates ?? []).map((cert) => {
      const body = (cert.rawBytes ?? '').replace(/(.{64})/g, '$1\n').trim();
      return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
    }),
  );
  if (pems.length === 0) {
    throw new UserError(
      `Input "trusted-root": ${trustedRootFile} names no certificate authority (certificateAuthorities is empty).`,
    );
  }
  return pems.join('');
}

function signerOptions(signer: Signer): {
  identity?: string;
  identityRegExp?: boolean;
  issuer?: string;
  key?: string;
  source?: SourceBinding;
} {
  return signer.key !== undefined
    ? { key: signer.key }
    : {
        identity: signer.identity,
        identityRegExp: signer.identityRegExp,
        issuer: signer.issuer,
        source: signer.source,
      };
}
