import { UserError } from '@golden-image/kit';
import { type Cosign, describeBinding, type Signer } from '@golden-image/signing';
import { verifiedStatements } from './cosign-attest.js';
import { EVIDENCE } from './kinds.js';
import { type EvidenceRequirement, scanProblems } from './requirement.js';

export interface RequireEvidenceOptions {
  /** image@sha256:… */
  imageRef: string;
  requirement: EvidenceRequirement;
  signer: Signer;
  now?: Date;
}

/**
 * Before a tag moves: each required kind of evidence is attached to the digest and verifies for the signer, and
 * every verified scan result is fresh enough and has no finding at or above the blocking severity (the checks
 * the Kyverno policy makes). Returns one line per kind for the summary; throws one UserError listing every problem.
 */
export async function requireEvidence(cosign: Cosign, options: RequireEvidenceOptions): Promise<string[]> {
  const now = options.now ?? new Date();
  const problems: string[] = [];
  const lines: string[] = [];
  for (const kind of options.requirement.kinds) {
    let statements: Awaited<ReturnType<typeof verifiedStatements>>;
    try {
      statements = await verifiedStatements(cosign, { imageRef: options.imageRef, kind, signer: options.signer });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(error.message);
      continue;
    }
    if (kind === 'vuln') {
      const found = statements.flatMap((statement) => scanProblems(statement, options.requirement, now));
      if (found.length > 0) {
        problems.push(`The ${EVIDENCE.vuln.label} of ${options.imageRef} does not pass: ${found.join('; ')}.`);
        continue;
      }
    }
    lines.push(`${EVIDENCE[kind].label}: ${statements.length} verified`);
  }
  if (problems.length > 0) {
    throw new UserError(
      `${problems.join('\n')}\nExpected evidence signed by ${describeBinding(options.signer)}` +
        ` (require-attestations: ${options.requirement.kinds.join(',')}, max-scan-age ${options.requirement.maxScanAge}, block-severity ${options.requirement.blockSeverity}). No tag was moved.`,
    );
  }
  return lines;
}
