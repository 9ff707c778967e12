import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActionContext, lastLines, runChecked, UserError } from '@golden-image/kit';
import { type BundleFormat, type Signer, type SigstoreInstance, type SourceBinding, verifyArgs } from './args.js';
import { type CosignVersion, detectCosignVersion } from './version.js';

export interface VerifySignatureOptions {
  /** `image@sha256:…`; a tag is refused, since what is verified must be what is promoted. */
  imageRef: string;
  /** Keyless: the exact certificate identity (SAN) and OIDC issuer. */
  identity?: string;
  issuer?: string;
  /** Keyless: the source repository (and ref, trigger) the certificate must name. */
  source?: SourceBinding;
  /** Key-based: a public key file, KMS URI or other cosign key reference, instead of identity and issuer. */
  key?: string;
  /** The format the signature was made in (default legacy). */
  bundleFormat?: BundleFormat;
  /** The cosign in use; read with `cosign version` when absent. */
  version?: CosignVersion;
  instance?: SigstoreInstance;
  /** Extra registry flags, e.g. registryFlags({ tlsVerify: false }). */
  registryFlags?: readonly string[];
  /** The environment cosign runs with (registry credentials); ctx.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** A cosign v3 to verify a legacy signature with when cosign v2.6.3+ verified attached bundles instead. */
  fallbackCosign?: () => Promise<string>;
}

export interface VerifiedSignature {
  /** How many signatures matched (cosign's JSON array on stdout). */
  signatures: number;
  /** The argv that was run, after the cosign path. */
  args: string[];
}

/** The signer a verification is pinned to; throws a UserError unless exactly one of key / identity+issuer is given. */
export function signerOf(options: {
  identity?: string;
  issuer?: string;
  key?: string;
  source?: SourceBinding;
}): Signer {
  if (options.key) {
    if (options.identity || options.issuer) {
      throw new UserError(
        'Give either a key or a certificate identity and issuer for signature verification, not both.',
      );
    }
    return { key: options.key };
  }
  if (!options.identity || !options.issuer) {
    throw new UserError(
      'Signature verification needs both "certificate-identity" and "certificate-oidc-issuer" (keyless), or "key".',
    );
  }
  const source = options.source && Object.values(options.source).some(Boolean) ? options.source : undefined;
  return { identity: options.identity, issuer: options.issuer, ...(source ? { source } : {}) };
}

/** One line for people: what a verification with this signer accepts, and what it leaves open. */
export function describeBinding(signer: Signer): string {
  if (signer.key !== undefined) return `any signature made with the key ${signer.key}`;
  const source = signer.source ?? {};
  const bound = [
    `identity ${signer.identity}`,
    `issuer ${signer.issuer}`,
    ...(source.repository ? [`source repository ${source.repository}`] : []),
    ...(source.ref ? [`ref ${source.ref}`] : []),
    ...(source.trigger ? [`trigger ${source.trigger}`] : []),
  ];
  const open = [
    ...(source.repository ? [] : ['source repository']),
    ...(source.ref ? [] : ['ref']),
    ...(source.trigger ? [] : ['trigger']),
  ];
  return `${bound.join(', ')}${open.length ? `; not bound: ${open.join(', ')}` : ''}`;
}

/**
 * Runs `cosign verify` for one digest and throws a UserError naming the digest and the expected signer when no
 * signature matches. promote-tags calls this before any tag moves.
 */
export async function verifySignature(
  ctx: ActionContext,
  cosignPath: string,
  options: VerifySignatureOptions,
): Promise<VerifiedSignature> {
  if (!/@sha256:[a-f0-9]{64}$/.test(options.imageRef)) {
    throw new UserError(
      `Signature verification needs an image@sha256:<digest> reference, got ${JSON.stringify(options.imageRef)}`,
    );
  }
  const signer = signerOf(options);
  const env = options.env ?? ctx.env;
  const version = options.version ?? (await detectCosignVersion({ ...ctx, env }, cosignPath));
  const instance = await withTrustedRootFromChain(
    { ...ctx, env },
    cosignPath,
    signer,
    options.bundleFormat ?? 'legacy',
    options.instance,
  );
  const args = verifyArgs({
    imageRef: options.imageRef,
    signer,
    bundleFormat: options.bundleFormat,
    version,
    instance: withOfflineKeyRoot(ctx, signer, version, options.bundleFormat ?? 'legacy', instance),
    registryFlags: options.registryFlags,
  });
  const result = await ctx.runner.run(cosignPath, args, { env });
  if (result.exitCode !== 0 && bundlesTookOver(version, options.bundleFormat ?? 'legacy', result.stderr)) {
    const what = `cosign ${version.text} verified the Sigstore bundle(s) attached to ${options.imageRef} instead of its legacy signature`;
    if (options.fallbackCosign) {
      ctx.info(
        `${what} (cosign 2.6.3 and later always do once a bundle is attached); checking the legacy signature with cosign v3 and --new-bundle-format=false.`,
      );
      const v3 = await options.fallbackCosign();
      return verifySignature(ctx, v3, { ...options, version: undefined, fallbackCosign: undefined });
    }
    throw new UserError(
      `Signature check failed for ${options.imageRef}: ${what}: cosign 2.6.3 and later do that whenever any bundle is ` +
        'attached (a build attestation, another signer), and cannot be told otherwise. Verify with cosign v3 ' +
        '(cosign-version: 3.1.3, or install-tools: true so the suite fetches it for this check), which the suite runs ' +
        `with --new-bundle-format=false.\ncosign said: ${lastLines(result.stderr, 3)}`,
    );
  }
  if (result.exitCode !== 0) {
    const why = reason(result.exitCode, result.stderr);
    throw new UserError(
      `Signature check failed for ${options.imageRef}: ${why} (expected ${describeBinding(signer)}).\n` +
        `cosign said: ${lastLines(result.stderr, 3)}`,
    );
  }
  return { signatures: countSignatures(result.stdout.toString('utf8')), args };
}

/**
 * A keyless bundle is verified against a trusted root only (cosign refuses --certificate-chain with bundles): when a
 * private instance was given as a certificate chain, `cosign trusted-root create` turns it into one (both cosign
 * 2.6 and 3 have the command; it wants the Fulcio URL beside the chain).
 */
export async function withTrustedRootFromChain(
  ctx: ActionContext,
  cosign: string,
  signer: Signer,
  format: BundleFormat,
  instance: SigstoreInstance | undefined,
): Promise<SigstoreInstance | undefined> {
  if (signer.key !== undefined || format !== 'new' || !instance?.certificateChain || instance.trustedRoot) {
    return instance;
  }
  if (!instance.fulcioUrl) {
    throw new UserError(
      'Input "certificate-chain" with bundle-format new: a bundle is verified against a trusted root, which the suite ' +
        'makes from the chain with cosign trusted-root create; give "fulcio-url" too (it is recorded in the trusted ' +
        'root), or give "trusted-root" instead.',
    );
  }
  mkdirSync(ctx.tempDir, { recursive: true });
  const trustedRoot = join(ctx.tempDir, 'golden-image-trusted-root.json');
  await runChecked(
    ctx.runner,
    cosign,
    [
      'trusted-root',
      'create',
      '--fulcio',
      `url=${instance.fulcioUrl},certificate-chain=${instance.certificateChain}`,
      '--out',
      trustedRoot,
    ],
    'Making a trusted root from the certificate chain',
    { env: ctx.env, silent: true },
  );
  return { ...instance, trustedRoot };
}

/**
 * cosign v2.6 refuses to verify a bundle without trusted material ("trusted root is required when using new bundle
 * format") even with a key and no transparency log, where none is needed (v3 knows it does not); it fetches the
 * public one online. With the log off and no trust root given, an empty trusted root satisfies it.
 */
export function withOfflineKeyRoot(
  ctx: ActionContext,
  signer: Signer,
  version: CosignVersion,
  format: BundleFormat,
  instance: SigstoreInstance | undefined,
): SigstoreInstance | undefined {
  if (signer.key === undefined || version.major !== 2 || format !== 'new') return instance;
  if (!instance || instance.transparencyLog || instance.trustedRoot) return instance;
  mkdirSync(ctx.tempDir, { recursive: true });
  const trustedRoot = join(ctx.tempDir, 'golden-image-empty-trusted-root.json');
  writeFileSync(
    trustedRoot,
    JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }),
  );
  return { ...instance, trustedRoot };
}

/**
 * cosign 2.6.3+ switches `verify` to bundle verification whenever any Sigstore bundle is attached to the image, with
 * no flag to turn that off (cosign v3 has --new-bundle-format=false); these are its bundle-path failures.
 */
export function bundlesTookOver(version: CosignVersion, format: BundleFormat, stderr: string): boolean {
  const switches = version.major === 2 && (version.minor > 6 || (version.minor === 6 && version.patch >= 3));
  return (
    switches &&
    format === 'legacy' &&
    /no matching attestations|trusted root is required when using new bundle format/.test(stderr)
  );
}

/** cosign's legacy-path verify exit codes (cmd/cosign/errors/exit_codes.go), with the message as a fallback. */
function reason(exitCode: number, stderr: string): string {
  if (
    /expected GitHub Workflow (Repository|Ref|Trigger) not found|expected GithubWorkflow(Repository|Ref|Trigger) to be/.test(
      stderr,
    )
  )
    return 'it is signed by that identity, but from another source repository, ref or trigger';
  if (exitCode === 10 || /no signatures found|no valid bundles exist/.test(stderr)) return 'it has no signature at all';
  if (exitCode === 12 || /no matching (signatures|attestations)/.test(stderr))
    return 'it is signed, but no signature matches';
  if (exitCode === 11) return 'the image was not found in the registry';
  if (exitCode === 13) return 'its signature carries no certificate';
  return `cosign verify exited with code ${exitCode}`;
}

function countSignatures(stdout: string): number {
  try {
    const parsed: unknown = JSON.parse(stdout.trim());
    return Array.isArray(parsed) ? parsed.length : 0;
  } catch {
    return 0;
  }
}
