import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionContext } from '@golden-image/kit';
import type { Cosign, Signer } from '@golden-image/signing';
import { attachAttestation, verifiedStatements } from './cosign-attest.js';
import { EVIDENCE, type EvidenceKind } from './kinds.js';

/** One attestation to write: a predicate of one kind about one digest (the index, or one platform manifest). */
export interface EvidenceItem {
  digest: string;
  /** `index`, or the platform of a platform manifest. */
  platform: string;
  kind: EvidenceKind;
  predicate: unknown;
}

export interface AttachedEvidence {
  digest: string;
  platform: string;
  kind: EvidenceKind;
  predicateType: string;
  /** cosign verify-attestation passed for it with the expected signer. */
  verified: boolean;
}

export interface AttachOptions {
  image: string;
  items: EvidenceItem[];
  /** Signing key; keyless when absent. */
  key?: string;
  /** The signer each attestation is verified against after writing; no verification when absent. */
  verifyAs?: Signer;
  /** Where predicate files are written. */
  work: string;
}

/** Writes each predicate to a file, attaches it with cosign attest by digest, then verifies it as its signer. */
export async function attachEvidence(
  ctx: ActionContext,
  cosign: Cosign,
  options: AttachOptions,
): Promise<AttachedEvidence[]> {
  await cosign.requireSigningFormat();
  await mkdir(options.work, { recursive: true });
  const attached: AttachedEvidence[] = [];
  for (const item of options.items) {
    const imageRef = `${options.image}@${item.digest}`;
    const { label, predicateType } = EVIDENCE[item.kind];
    const predicateFile = join(options.work, `${item.digest.replace(':', '-')}.${item.kind}.json`);
    await writeFile(predicateFile, JSON.stringify(item.predicate));
    await ctx.group(`Attach the ${label} of ${item.platform} to ${imageRef}`, async () => {
      await attachAttestation(cosign, { imageRef, kind: item.kind, predicateFile, key: options.key });
      if (options.verifyAs) await verifiedStatements(cosign, { imageRef, kind: item.kind, signer: options.verifyAs });
    });
    attached.push({
      digest: item.digest,
      platform: item.platform,
      kind: item.kind,
      predicateType,
      verified: Boolean(options.verifyAs),
    });
  }
  return attached;
}
