import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import type { BundleFormat, SourceBinding } from './args.js';
import type { Cosign } from './cosign.js';
import { abilitiesOf, type CosignVersion } from './cosign-abilities.js';
import { describeBinding, signerOf } from './signer.js';

export interface VerifySignatureOptions {
  /** `image@sha256:…`; a tag is refused, since what is verified must be what is promoted. */
  imageRef: string;
  /** Keyless: the exact certificate identity (SAN) and OIDC issuer. */
  identity?: string;
  /** Keyless: `identity` is a regular expression (--certificate-identity-regexp). */
  identityRegExp?: boolean;
  issuer?: string;
  /** Keyless: the source repository (and ref, trigger) the certificate must name. */
  source?: SourceBinding;
  /** Key-based: a public key file, KMS URI or other cosign key reference, instead of identity and issuer. */
  key?: string;
}

export interface VerifiedSignature {
  /** How many signatures matched (cosign's JSON array on stdout). */
  signatures: number;
  /** The argv that was run, after the cosign path. */
  args: string[];
}

/**
 * Runs `cosign verify` for one digest, in the format, instance and registry of the cosign's step, and throws a
 * UserError naming the digest and the expected signer when no signature matches. promote-tags calls this before
 * any tag moves; sign-digest after signing. When this cosign's verify looks only at attached bundles, a legacy
 * signature is checked with the pinned cosign v3 (Cosign.legacyVerifier), or the refusal says how.
 */
export async function verifySignature(
  ctx: ActionContext,
  cosign: Cosign,
  options: VerifySignatureOptions,
): Promise<VerifiedSignature> {
  if (!/@sha256:[a-f0-9]{64}$/.test(options.imageRef)) {
    throw new UserError(
      `Signature verification needs an image@sha256:<digest> reference, got ${JSON.stringify(options.imageRef)}`,
    );
  }
  const signer = signerOf(options);
  const version = await cosign.version();
  const args = await cosign.verifyArgs(options.imageRef, signer);
  const result = await cosign.run(args);
  if (result.exitCode !== 0 && bundlesTookOver(version, cosign.bundleFormat, result.stderr)) {
    const what = `cosign ${version.text} verified the Sigstore bundle(s) attached to ${options.imageRef} instead of its legacy signature`;
    const v3 = await cosign.legacyVerifier();
    if (v3) {
      ctx.info(
        `${what} (cosign 2.6.3 and later always do once a bundle is attached); checking the legacy signature with cosign v3 and --new-bundle-format=false.`,
      );
      return verifySignature(ctx, v3, options);
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
 * cosign 2.6.3+ switches `verify` to bundle verification whenever any Sigstore bundle is attached to the image, with
 * no flag to turn that off (cosign v3 has --new-bundle-format=false); these are its bundle-path failures.
 */
export function bundlesTookOver(version: CosignVersion, format: BundleFormat, stderr: string): boolean {
  return (
    Boolean(abilitiesOf(version)?.bundlesHideLegacy) &&
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
