import type { CosignVersion } from './version.js';

export type BundleFormat = 'legacy' | 'new';

/** How the verifier proves who signed: a certificate identity and issuer (keyless), or a public key / KMS URI. */
export type Signer =
  | { identity: string; issuer: string; key?: undefined }
  | { key: string; identity?: undefined; issuer?: undefined };

export interface SignArgsOptions {
  imageRef: string;
  version: CosignVersion;
  bundleFormat: BundleFormat;
  recursive: boolean;
  key?: string;
  registryFlags?: readonly string[];
}

/**
 * `cosign sign` by digest. `--yes` answers the Sigstore terms prompt (the child's stdin is closed anyway).
 * Booleans are given as `--flag=false` with `=`: `--flag false` would make "false" a positional argument.
 */
export function signArgs(options: SignArgsOptions): string[] {
  const args = ['sign', '--yes'];
  if (options.recursive) args.push('--recursive');
  if (options.key) args.push('--key', options.key);
  if (options.version.major >= 3 && options.bundleFormat === 'legacy') {
    // v3 defaults to the new bundle and the TUF signing config; both must be off for a v2-style signature.
    args.push('--new-bundle-format=false', '--use-signing-config=false');
  }
  args.push(...(options.registryFlags ?? []), options.imageRef);
  return args;
}

export interface VerifyArgsOptions {
  imageRef: string;
  signer: Signer;
  registryFlags?: readonly string[];
}

/** `cosign verify` pinned to exactly one identity and issuer, or to one key. */
export function verifyArgs(options: VerifyArgsOptions): string[] {
  const args = ['verify'];
  if (options.signer.key !== undefined) {
    args.push('--key', options.signer.key);
  } else {
    args.push('--certificate-identity', options.signer.identity, '--certificate-oidc-issuer', options.signer.issuer);
  }
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
