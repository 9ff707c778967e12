import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { type Signer, verifyArgs } from './args.js';

export interface VerifySignatureOptions {
  /** `image@sha256:…`; a tag is refused, since what is verified must be what is promoted. */
  imageRef: string;
  /** Keyless: the exact certificate identity (SAN) and OIDC issuer. */
  identity?: string;
  issuer?: string;
  /** Key-based: a public key file, KMS URI or other cosign key reference, instead of identity and issuer. */
  key?: string;
  /** Extra registry flags, e.g. registryFlags({ tlsVerify: false }). */
  registryFlags?: readonly string[];
}

export interface VerifiedSignature {
  /** How many signatures matched (cosign's JSON array on stdout). */
  signatures: number;
  /** The argv that was run, after the cosign path. */
  args: string[];
}

/** The signer a verification is pinned to; throws a UserError unless exactly one of key / identity+issuer is given. */
export function signerOf(options: { identity?: string; issuer?: string; key?: string }): Signer {
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
  return { identity: options.identity, issuer: options.issuer };
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
  const args = verifyArgs({ imageRef: options.imageRef, signer, registryFlags: options.registryFlags });
  const result = await ctx.runner.run(cosignPath, args, { env: ctx.env });
  const expected =
    signer.key !== undefined ? `the key ${signer.key}` : `identity ${signer.identity} and issuer ${signer.issuer}`;
  if (result.exitCode !== 0) {
    const why = reason(result.exitCode, result.stderr);
    throw new UserError(
      `Signature check failed for ${options.imageRef}: ${why} (expected ${expected}).\ncosign said: ${lastLines(result.stderr, 3)}`,
    );
  }
  return { signatures: countSignatures(result.stdout.toString('utf8')), args };
}

/** cosign's legacy-path verify exit codes (cmd/cosign/errors/exit_codes.go), with the message as a fallback. */
function reason(exitCode: number, stderr: string): string {
  if (exitCode === 10 || /no signatures found/.test(stderr)) return 'it has no signature at all';
  if (exitCode === 12 || /no matching signatures/.test(stderr)) return 'it is signed, but no signature matches';
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
