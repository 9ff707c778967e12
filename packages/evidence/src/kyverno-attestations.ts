import { UserError } from '@golden-image/kit';
import { parseAllDocuments, stringify } from 'yaml';
import { EVIDENCE, type EvidenceKind } from './kinds.js';
import { type EvidenceRequirement, severitiesFrom } from './requirement.js';

/**
 * Kyverno conditions for one kind of evidence, evaluated against each attestation's predicate (Kyverno adds the
 * predicate to the context): every attestation of that type by the attestors must pass them.
 * - SBOM: a CycloneDX document.
 * - scan result: scanned within maxScanAge (metadata.scanFinishedOn), and no finding at or above blockSeverity in
 *   the counts the scan's gate recorded (invocation.parameters.findings, after the reviewed ignore files).
 */
export function evidenceConditions(kind: EvidenceKind, requirement: EvidenceRequirement): Record<string, unknown>[] {
  if (kind === 'sbom') {
    return [{ all: [{ key: '{{ bomFormat }}', operator: 'Equals', value: 'CycloneDX' }] }];
  }
  return [
    {
      all: [
        {
          key: "{{ time_since('', metadata.scanFinishedOn, '') }}",
          operator: 'LessThanOrEquals',
          value: requirement.maxScanAge,
          message: `the scan result is older than ${requirement.maxScanAge}: rescan the digest`,
        },
        ...severitiesFrom(requirement.blockSeverity).map((severity) => ({
          key: `{{ invocation.parameters.findings.${severity} }}`,
          operator: 'Equals',
          value: 0,
          message: `the scan found ${severity} findings`,
        })),
      ],
    },
  ];
}

/** The `attestations` list of a verifyImages entry: each required kind, checked with the entry's own attestors. */
export function attestationsBlock(attestors: unknown, requirement: EvidenceRequirement): Record<string, unknown>[] {
  return requirement.kinds.map((kind) => ({
    type: EVIDENCE[kind].predicateType,
    attestors,
    conditions: evidenceConditions(kind, requirement),
  }));
}

/**
 * sign-digest's ClusterPolicy, with every verifyImages entry also requiring the evidence, signed by the same
 * attestors as the image (same key, or same identity, issuer and source repository).
 */
export function requireEvidenceInPolicy(policyYaml: string, requirement: EvidenceRequirement): string {
  const docs = parseAllDocuments(policyYaml).map((doc) => doc.toJS() as Record<string, unknown> | null);
  let entries = 0;
  for (const doc of docs) {
    const rules = (doc?.spec as { rules?: { verifyImages?: Record<string, unknown>[] }[] } | undefined)?.rules ?? [];
    for (const rule of rules) {
      for (const verify of rule.verifyImages ?? []) {
        if (!Array.isArray(verify.attestors) || verify.attestors.length === 0) continue;
        verify.attestations = attestationsBlock(verify.attestors, requirement);
        entries++;
      }
    }
  }
  if (entries === 0) {
    throw new UserError(
      'Input "kyverno-policy": the policy has no verifyImages entry with attestors to extend; pass the kyverno-policy output of sign-digest.',
    );
  }
  return docs.map((doc) => stringify(doc, { lineWidth: 0 })).join('---\n');
}
