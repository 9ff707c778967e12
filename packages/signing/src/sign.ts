import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ActionContext, runChecked, UserError } from '@golden-image/kit';
import { type BundleFormat, type Signer, signArgs, signatureLocation, verifyArgs } from './args.js';
import { publicKeyOf } from './key.js';
import { buildClusterPolicy, type IdentityMatch, type PolicySigner, policyYaml } from './kyverno.js';
import {
  decodeJwtClaims,
  fetchGithubIdToken,
  type IdTokenFetcher,
  identityFromClaims,
  requireGithubOidc,
  SIGSTORE_AUDIENCE,
} from './oidc.js';
import { shellCommand } from './shell.js';
import { verifySignature } from './verify.js';
import { type CosignVersion, detectCosignVersion } from './version.js';

export interface SignDigestOptions {
  image: string;
  digest: string;
  bundleFormat: BundleFormat;
  recursive: boolean;
  /** Key reference or KMS URI; keyless when absent. */
  key?: string;
  verify: boolean;
  /** Keyless: override the identity / issuer predicted from the OIDC token. */
  identity?: string;
  issuer?: string;
  imageReferences: readonly string[];
  identityMatch: IdentityMatch;
  policyFile: string;
  registryFlags: readonly string[];
  fetchIdToken?: IdTokenFetcher;
}

export interface SignDigestResult {
  imageRef: string;
  version: CosignVersion;
  signature: string;
  identity?: string;
  issuer?: string;
  /** The workflow that called the reusable workflow that signed, when there is one. */
  caller?: string;
  /** Key-based: what `cosign verify --key` is given (an exported .pub file, or the KMS URI). */
  verifyKey?: string;
  verified: boolean;
  verifyCommand: string;
  policyFile: string;
  policy: string;
}

export async function signDigest(
  ctx: ActionContext,
  cosign: string,
  options: SignDigestOptions,
): Promise<SignDigestResult> {
  const imageRef = `${options.image}@${options.digest}`;
  if (!options.key) requireGithubOidc(ctx.env);
  const version = await detectCosignVersion(ctx, cosign);
  ctx.info(`cosign ${version.text}`);
  if (options.bundleFormat === 'new' && version.major < 3) {
    throw new UserError(
      `Input "bundle-format": "new" needs cosign v3, but cosign ${version.text} is in use; set "cosign-version" to a v3 release or use bundle-format: legacy.`,
    );
  }

  let signer: Signer;
  let policySigner: PolicySigner;
  let caller: string | undefined;
  if (options.key) {
    // Exported before signing, so a wrong COSIGN_PASSWORD fails before anything is pushed.
    const publicKey = await publicKeyOf(ctx, cosign, options.key);
    signer = { key: publicKey.verifyKey };
    policySigner = { kind: 'key', pem: publicKey.pem, kms: publicKey.kms };
  } else {
    let identity = options.identity;
    let issuer = options.issuer;
    if (!identity || !issuer) {
      const token = await (options.fetchIdToken ?? fetchGithubIdToken)(ctx.env, SIGSTORE_AUDIENCE);
      ctx.secret(token);
      const predicted = identityFromClaims(decodeJwtClaims(token));
      identity ??= predicted.identity;
      issuer ??= predicted.issuer;
      caller = predicted.caller;
    }
    signer = { identity, issuer };
    policySigner = { kind: 'keyless', identity, issuer, match: options.identityMatch };
  }

  const args = signArgs({ imageRef, version, ...options, registryFlags: options.registryFlags });
  await ctx.group(`Signing ${imageRef}`, () =>
    runChecked(ctx.runner, cosign, args, `Signing ${imageRef}`, { env: ctx.env }),
  );

  if (options.verify) {
    await ctx.group(`Verifying the signature of ${imageRef}`, () =>
      verifySignature(ctx, cosign, { imageRef, ...signerOptions(signer), registryFlags: options.registryFlags }),
    );
  } else {
    ctx.warning('verify: false, so the signature was not checked after signing.');
  }

  const policy = policyYaml(
    buildClusterPolicy({
      image: options.image,
      imageReferences: options.imageReferences,
      bundleFormat: options.bundleFormat,
      signer: policySigner,
    }),
  );
  mkdirSync(dirname(options.policyFile), { recursive: true });
  writeFileSync(options.policyFile, policy);

  return {
    imageRef,
    version,
    signature: signatureLocation(options.image, options.digest, options.bundleFormat, ctx.env),
    identity: signer.identity,
    issuer: signer.issuer,
    caller,
    verifyKey: signer.key,
    verified: options.verify,
    verifyCommand: shellCommand(['cosign', ...verifyArgs({ imageRef, signer, registryFlags: options.registryFlags })]),
    policyFile: options.policyFile,
    policy,
  };
}

function signerOptions(signer: Signer): { identity?: string; issuer?: string; key?: string } {
  return signer.key !== undefined ? { key: signer.key } : { identity: signer.identity, issuer: signer.issuer };
}
