import { abilitiesOf, type BundleFormat, type CosignVersion } from './cosign-abilities.js';

export type { BundleFormat };

/**
 * GitHub facts a keyless certificate carries besides its identity (Fulcio's GitHub extensions), checked with
 * cosign verify --certificate-github-workflow-repository / -ref / -trigger. The identity of a job run from a
 * reusable workflow names that workflow, the same for every caller: the source repository names the caller.
 */
export interface SourceBinding {
  /** owner/name of the repository whose run signed (the certificate's GitHub workflow repository). */
  repository?: string;
  /** The git ref that run was for, refs/heads/... or refs/tags/.... */
  ref?: string;
  /** The event that started it: push, schedule, workflow_dispatch, .... */
  trigger?: string;
}

/**
 * How the verifier proves who signed: a certificate identity and issuer (keyless), or a public key / KMS URI. A keyless
 * identity is exact unless `identityRegExp` is set: then `identity` is a regular expression
 * (cosign --certificate-identity-regexp, Kyverno subjectRegExp; both match it anywhere unless it is anchored).
 */
export type Signer =
  | { identity: string; identityRegExp?: boolean; issuer: string; source?: SourceBinding; key?: undefined }
  | { key: string; identity?: undefined; identityRegExp?: undefined; issuer?: undefined; source?: undefined };

/** A Sigstore instance. Every field empty or true: the public-good instance (fulcio.sigstore.dev, rekor.sigstore.dev). */
export interface SigstoreInstance {
  fulcioUrl?: string;
  rekorUrl?: string;
  /** false: nothing goes to a transparency log, and verification needs no log entry. */
  transparencyLog: boolean;
  /** false: the Fulcio has no CT log, so its certificates carry no SCT, and verification needs none. */
  ctLog: boolean;
  /** PEM file: the Fulcio CA chain (intermediates, root last), for legacy signatures. */
  certificateChain?: string;
  /** Sigstore trusted-root JSON file (cosign trusted-root create). */
  trustedRoot?: string;
}

export const PUBLIC_GOOD: SigstoreInstance = { transparencyLog: true, ctLog: true };

export function isPublicGood(instance: SigstoreInstance): boolean {
  return (
    !instance.fulcioUrl &&
    !instance.rekorUrl &&
    instance.transparencyLog &&
    instance.ctLog &&
    !instance.certificateChain &&
    !instance.trustedRoot
  );
}

export interface SignArgsOptions {
  imageRef: string;
  version: CosignVersion;
  bundleFormat: BundleFormat;
  recursive: boolean;
  key?: string;
  instance?: SigstoreInstance;
  registryFlags?: readonly string[];
}

/**
 * `cosign sign` by digest. `--yes` answers the Sigstore terms prompt (the child's stdin is closed anyway).
 * Booleans are given as `--flag=false` with `=`: `--flag false` would make "false" a positional argument.
 */
export function signArgs(options: SignArgsOptions): string[] {
  const instance = options.instance ?? PUBLIC_GOOD;
  const args = ['sign', '--yes'];
  if (options.recursive) args.push('--recursive');
  if (options.key) args.push('--key', options.key);
  const can = abilitiesOf(options.version);
  // v3 defaults to the new bundle and to the signing config fetched from the public TUF repository, which refuses
  // custom service URLs and --tlog-upload=false: both off for a legacy signature, the config for a private instance.
  if (can?.bundleByDefault && options.bundleFormat === 'legacy') args.push('--new-bundle-format=false');
  if (can?.signingConfig && (options.bundleFormat === 'legacy' || !isPublicGood(instance)))
    args.push('--use-signing-config=false');
  if (instance.fulcioUrl && !options.key) args.push('--fulcio-url', instance.fulcioUrl);
  if (!instance.transparencyLog) args.push('--tlog-upload=false');
  else if (instance.rekorUrl) args.push('--rekor-url', instance.rekorUrl);
  // Without a CT log the certificate has no SCT, which cosign sign otherwise insists on checking.
  if (!instance.ctLog && !options.key) args.push('--insecure-skip-verify');
  args.push(...(options.registryFlags ?? []), options.imageRef);
  return args;
}

export interface VerifyArgsOptions {
  imageRef: string;
  signer: Signer;
  /** The format to verify; cosign v3 is told explicitly (see below). */
  bundleFormat?: BundleFormat;
  version?: CosignVersion;
  instance?: SigstoreInstance;
  registryFlags?: readonly string[];
}

/** `cosign verify` pinned to exactly one identity and issuer (and the source it was bound to), or to one key. */
export function verifyArgs(options: VerifyArgsOptions): string[] {
  const instance = options.instance ?? PUBLIC_GOOD;
  const args = ['verify'];
  const keyless = options.signer.key === undefined;
  if (options.signer.key !== undefined) {
    args.push('--key', options.signer.key);
  } else {
    args.push(
      options.signer.identityRegExp ? '--certificate-identity-regexp' : '--certificate-identity',
      options.signer.identity,
      '--certificate-oidc-issuer',
      options.signer.issuer,
    );
    const source = options.signer.source ?? {};
    if (source.repository) args.push('--certificate-github-workflow-repository', source.repository);
    if (source.ref) args.push('--certificate-github-workflow-ref', source.ref);
    if (source.trigger) args.push('--certificate-github-workflow-trigger', source.trigger);
  }
  const format = options.bundleFormat ?? 'legacy';
  const bundleByDefault = options.version ? abilitiesOf(options.version)?.bundleByDefault : false;
  // cosign v3 verifies Sigstore bundles whenever one is attached and falls back to the legacy signature only when
  // none is: with a legacy signature, --new-bundle-format=false keeps an unrelated bundle (a build attestation)
  // from deciding the outcome.
  if (bundleByDefault && format === 'legacy') args.push('--new-bundle-format=false');
  if (!bundleByDefault && format === 'new') args.push('--new-bundle-format');
  if (instance.trustedRoot) args.push('--trusted-root', instance.trustedRoot);
  else if (instance.certificateChain && keyless) args.push('--certificate-chain', instance.certificateChain);
  if (!instance.transparencyLog) args.push('--insecure-ignore-tlog');
  else if (instance.rekorUrl) args.push('--rekor-url', instance.rekorUrl);
  if (!instance.ctLog && keyless) args.push('--insecure-ignore-sct');
  args.push(...(options.registryFlags ?? []), options.imageRef);
  return args;
}

/** Flags for a registry without trusted TLS (cosign already speaks plain HTTP to localhost and RFC 1918 hosts). */
export function registryFlags(options: { tlsVerify: boolean }): string[] {
  return options.tlsVerify ? [] : ['--allow-insecure-registry', '--allow-http-registry'];
}

/** Where cosign stores the signature, for the `signature` output. */
export function signatureLocation(
  image: string,
  digest: string,
  bundleFormat: BundleFormat,
  env: NodeJS.ProcessEnv,
): string {
  if (bundleFormat === 'new') return `OCI 1.1 referrer (Sigstore bundle) of ${image}@${digest}`;
  const repository = env.COSIGN_REPOSITORY || image;
  return `${repository}:${digest.replace(':', '-')}.sig`;
}
