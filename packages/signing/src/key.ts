import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ActionContext, show } from '@golden-image/kit';
import type { Cosign } from './cosign.js';

const KMS_URI = /^(awskms|gcpkms|azurekms|hashivault):\/\/./;

/** Key references cosign resolves itself, not files: KMS URIs, env://VAR, Kubernetes and GitLab secrets, PKCS#11. */
const NOT_A_FILE = /^(?:(?:awskms|gcpkms|azurekms|hashivault|k8s|env|gitlab):\/\/|pkcs11:)/;

/**
 * Why a key reference cannot be used, checked before anything runs; undefined when it is fine. A file must exist, be
 * a file and be readable (relative paths are the workspace's, as cosign reads them); other references pass through.
 */
export function keyReferenceProblem(key: string, half: 'private' | 'public'): string | undefined {
  if (NOT_A_FILE.test(key)) return undefined;
  const path = resolve(key);
  const fix =
    half === 'private'
      ? 'write the key from a secret in an earlier step (printf \'%s\' "$COSIGN_PRIVATE_KEY" > cosign.key), or give env://COSIGN_PRIVATE_KEY to read it from that variable, or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://, k8s://)'
      : "give sign-digest's public-key output, a cosign.pub committed to the repository, or the KMS URI that signed (awskms://, gcpkms://, azurekms://, hashivault://, k8s://)";
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    return `the ${half} key file ${show(key)} does not exist (looked for ${path}): ${fix}`;
  }
  if (!isFile) return `${show(key)} is not a file (${path}): ${fix}`;
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return `the ${half} key file ${show(key)} is not readable by this job (${path}): check its permissions`;
  }
  return undefined;
}

/** A KMS key is verified by its URI; every other reference (file, env://, k8s://, gitlab://) by its exported public key. */
export function isKmsUri(key: string): boolean {
  return KMS_URI.test(key);
}

export interface PublicKey {
  /** What `cosign verify --key` is given: a .pub file, or the KMS URI. */
  verifyKey: string;
  /** PEM text, for the Kyverno policy (absent for KMS keys, which the policy names by URI). */
  pem?: string;
  kms?: string;
}

/** Exports the public half of a signing key with `cosign public-key` (COSIGN_PASSWORD comes through the env). */
export async function publicKeyOf(ctx: ActionContext, cosign: Cosign, key: string): Promise<PublicKey> {
  if (isKmsUri(key)) return { verifyKey: key, kms: key };
  const result = await cosign.runChecked(['public-key', '--key', key], 'Exporting the public key', { silent: true });
  const pem = result.stdout.toString('utf8').trim();
  mkdirSync(ctx.tempDir, { recursive: true });
  const file = join(ctx.tempDir, 'sign-digest-cosign.pub');
  writeFileSync(file, `${pem}\n`);
  return { verifyKey: file, pem };
}
