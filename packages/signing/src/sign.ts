import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ActionContext, runChecked, UserError } from '@golden-image/kit';
import {
  type BundleFormat,
  isPublicGood,
  PUBLIC_GOOD,
  type Signer,
  type SigstoreInstance,
  type SourceBinding,
  signArgs,
  signatureLocation,
  verifyArgs,
} from './args.js';
import { publicKeyOf } from './key.js';
import {
  buildClusterPolicy,
  type IdentityMatch,
  type PolicyInstance,
  type PolicySigner,
  policyYaml,
} from './kyverno.js';
import {
  decodeJwtClaims,
  fetchGithubIdToken,
  type IdTokenFetcher,
  identityFromClaims,
  requireGithubOidc,
  SIGSTORE_AUDIENCE,
} from './oidc.js';
import { shellCommand } from './shell.js';
import { verifySignature, withOfflineKeyRoot, withTrustedRootFromChain } from './verify.js';
import { type CosignVersion, detectCosignVersion } from './version.js';

/** What the caller asks to bind; `repository` undefined means "the run's own", as the token or GITHUB_REPOSITORY says. */
export interface SourceRequest {
  repository?: string;
  ref?: string;
  trigger?: string;
}

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
  /** Keyless: the source the verification, the verify command and the policy bind (default: the run's repository). */
  source?: SourceRequest;
  instance?: SigstoreInstance;
  imageReferences: readonly string[];
  identityMatch: IdentityMatch;
  policyFile: string;
  registryFlags: readonly string[];
  /** The environment cosign runs with (registry credentials); ctx.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** See VerifySignatureOptions.fallbackCosign. */
  fallbackCosign?: () => Promise<string>;
  fetchIdToken?: IdTokenFetcher;
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

export async function signDigest(
  ctx: ActionContext,
  cosign: string,
  options: SignDigestOptions,
): Promise<SignDigestResult> {
  const imageRef = `${options.image}@${options.digest}`;
  const env = options.env ?? ctx.env;
  const instance = options.instance ?? PUBLIC_GOOD;
  const notes: string[] = [];
  if (!options.key) requireGithubOidc(ctx.env);
  const version = await detectCosignVersion({ ...ctx, env }, cosign);
  ctx.info(`cosign ${version.text}`);
  if (options.bundleFormat === 'new' && version.major < 3) {
    // cosign 2.6 can write a bundle, but puts its artifactType in the config descriptor instead of the manifest, so
    // the referrers index names it application/vnd.oci.empty.v1+json and Kyverno (which looks for
    // application/vnd.dev.sigstore.bundle*) never finds it. It verifies bundles fine.
    throw new UserError(
      `Input "bundle-format": "new" needs cosign v3 to sign, but cosign ${version.text} is in use (cosign 2.6 writes bundles Kyverno cannot find); set "cosign-version" to 3.1.3 or use bundle-format: legacy.`,
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
    let fromToken: SourceBinding = {};
    if (!identity || !issuer || !options.source?.repository) {
      const token = await (options.fetchIdToken ?? fetchGithubIdToken)(ctx.env, SIGSTORE_AUDIENCE);
      ctx.secret(token);
      const predicted = identityFromClaims(decodeJwtClaims(token));
      identity ??= predicted.identity;
      issuer ??= predicted.issuer;
      caller = predicted.caller;
      fromToken = { repository: predicted.repository };
    }
    const source = bindSource(options.source, fromToken.repository ?? ctx.env.GITHUB_REPOSITORY, notes);
    signer = { identity, issuer, ...(source ? { source } : {}) };
    policySigner = { kind: 'keyless', identity, issuer, match: options.identityMatch, source };
  }

  const args = signArgs({ imageRef, version, ...options, instance, registryFlags: options.registryFlags });
  await ctx.group(`Signing ${imageRef}`, () => runChecked(ctx.runner, cosign, args, `Signing ${imageRef}`, { env }));
  const verifyInstance = withOfflineKeyRoot(
    ctx,
    signer,
    version,
    options.bundleFormat,
    await withTrustedRootFromChain({ ...ctx, env }, cosign, signer, options.bundleFormat, instance),
  );

  if (options.verify) {
    await ctx.group(`Verifying the signature of ${imageRef}`, () =>
      verifySignature(ctx, cosign, {
        imageRef,
        ...signerOptions(signer),
        bundleFormat: options.bundleFormat,
        version,
        instance: verifyInstance,
        registryFlags: options.registryFlags,
        env,
        fallbackCosign: options.fallbackCosign,
      }),
    );
  } else {
    ctx.warning('verify: false, so the signature was not checked after signing.');
  }

  let policy = '';
  if (policySigner.kind === 'keyless' && options.bundleFormat === 'new') {
    // Kyverno 1.19 verifies a keyless SigstoreBundle against subject and issuer only (additionalExtensions are not
    // read on that path) and only with the public-good TUF trust root (roots are not read either).
    notes.push(
      'No Kyverno policy was written: Kyverno verifies a keyless Sigstore bundle (type: SigstoreBundle) by subject and ' +
        'issuer only, ignoring additionalExtensions, so it cannot tell your signatures from those of any other ' +
        'repository that runs the same workflow file, and it ignores roots (public-good trust root only). Sign with ' +
        'bundle-format: legacy for Kyverno admission (type: Cosign binds the source repository).',
    );
  } else {
    policy = policyYaml(
      buildClusterPolicy({
        image: options.image,
        imageReferences: options.imageReferences,
        bundleFormat: options.bundleFormat,
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
    signature: signatureLocation(options.image, options.digest, options.bundleFormat, env),
    identity: signer.identity,
    issuer: signer.issuer,
    source: signer.source,
    caller,
    verifyKey: signer.key,
    verified: options.verify,
    verifyCommand: shellCommand([
      'cosign',
      ...verifyArgs({
        imageRef,
        signer,
        bundleFormat: options.bundleFormat,
        version,
        instance: verifyInstance,
        registryFlags: options.registryFlags,
      }),
    ]),
    policyFile: policy ? options.policyFile : '',
    policy,
    notes,
  };
}

/** The run's repository unless the caller named one; ref and trigger only when asked for. */
function bindSource(
  requested: SourceRequest | undefined,
  runRepository: string | undefined,
  notes: string[],
): SourceBinding | undefined {
  const repository = requested?.repository ?? runRepository;
  if (!repository) {
    notes.push(
      'No source repository is bound (the token has no repository claim and GITHUB_REPOSITORY is not set): any ' +
        'repository that runs the same workflow file can make a signature that passes. Set "source-repository".',
    );
  }
  const source = { repository, ref: requested?.ref, trigger: requested?.trigger };
  return Object.values(source).some(Boolean)
    ? (Object.fromEntries(Object.entries(source).filter(([, v]) => v)) as SourceBinding)
    : undefined;
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
