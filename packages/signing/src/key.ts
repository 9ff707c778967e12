import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionContext } from '@golden-image/kit';
import type { Cosign } from './cosign.js';

const KMS_URI = /^(awskms|gcpkms|azurekms|hashivault):\/\/./;

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
