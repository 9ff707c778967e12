import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ActionContext, UserError } from '@golden-image/kit';
import { isPublicGood, PUBLIC_GOOD, type Signer, type SigstoreInstance, type SourceBinding } from './args.js';
import type { Cosign } from './cosign.js';
import type { CosignVersion } from './cosign-abilities.js';
import {
  buildClusterPolicy,
  type IdentityMatch,
  type PolicyInstance,
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
  /** Who signs, as signerFromInputs worked it out. */
  signer: ResolvedSigner;
  imageReferences: readonly string[];
  identityMatch: IdentityMatch;
  policyFile: string;
}

export interface SignDigestResult {
  imageRef: string;
  version: CosignVersion;
  signature: string;
  identity?: string;
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
  /** Things the caller should know, said in the summary too. */
  notes: string[];
}

/** Signs one digest in the cosign's format and instance, verifies it as its signer, and writes the Kyverno policy. */
export async function signDigest(
  ctx: ActionContext,
  cosign: Cosign,
  options: SignDigestOptions,
): Promise<SignDigestResult> {
  const imageRef = `${options.image}@${options.digest}`;
  const version = await cosign.version();
  ctx.info(`cosign ${version.text}`);
  await cosign.requireSigningFormat();
  const { signer, publicKey, caller } = options.signer;
  const notes = [...options.signer.notes];

  const args = await cosign.signArgs(imageRef, { recursive: options.recursive, key: options.key });
  await ctx.group(`Signing ${imageRef}`, () => cosign.runChecked(args, `Signing ${imageRef}`));
  await cosign.verifyInstance(signer);

  if (options.verify) {
    await ctx.group(`Verifying the signature of ${imageRef}`, () =>
      verifySignature(ctx, cosign, { imageRef, ...signerOptions(signer) }),
    );
  } else {
    ctx.warning('verify: false, so the signature was not checked after signing.');
  }

  let policy = '';
  const instance = cosign.setup.instance ?? PUBLIC_GOOD;
  if (signer.key === undefined && cosign.bundleFormat === 'new') {
    // Kyverno 1.19 verifies a keyless SigstoreBundle against subject and issuer only (additionalExtensions are not
    // read on that path) and only with the public-good TUF trust root (roots are not read either).
    notes.push(
      'No Kyverno policy was written: Kyverno verifies a keyless Sigstore bundle (type: SigstoreBundle) by subject and ' +
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
            match: options.identityMatch,
            source: signer.source,
          }
        : { kind: 'key', pem: publicKey?.pem, kms: publicKey?.kms };
    policy = policyYaml(
      buildClusterPolicy({
        image: options.image,
        imageReferences: options.imageReferences,
        bundleFormat: cosign.bundleFormat,
        signer: policySigner,
        instance: policyInstance(instance),
      }),
    );
    mkdirSync(dirname(options.policyFile), { recursive: true });
    writeFileSync(options.policyFile, policy);
  }

  return {
    imageRef,
    version,
    signature: cosign.signatureLocation(options.image, options.digest),
    identity: signer.identity,
    issuer: signer.issuer,
    source: signer.source,
    caller,
    verifyKey: signer.key,
    verified: options.verify,
    verifyCommand: await cosign.verifyCommand(imageRef, signer),
    policyFile: policy ? options.policyFile : '',
    policy,
    notes,
  };
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
  issuer?: string;
  key?: string;
  source?: SourceBinding;
} {
  return signer.key !== undefined
    ? { key: signer.key }
    : { identity: signer.identity, issuer: signer.issuer, source: signer.source };
}
