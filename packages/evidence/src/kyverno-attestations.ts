import { UserError } from '@golden-image/kit';
import { everyImage, UNLOGGED_ATTESTATIONS_IMAGE_VALIDATING_POLICY } from '@golden-image/signing';
import { parseAllDocuments, stringify } from 'yaml';
import { EVIDENCE, EVIDENCE_KINDS, type EvidenceKind } from './kinds.js';
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
 * The same conditions as ImageValidatingPolicy validations (CEL), in the same order and words as the ClusterPolicy's.
 * Each kind is first verified (verifyAttestationSignatures, which also records its payload), then read
 * (extractPayload: the in-toto statement; the predicate under `predicate`). Kyverno keeps one verified payload per
 * predicate type and image, so where a digest carries several attestations of a type (new-format bundles: one more
 * per rescan) this reads one of them, where the ClusterPolicy checks each: legacy attestations are replaced
 * (cosign attest --replace), so a digest carries one of each.
 */
export function evidenceValidations(
  kind: EvidenceKind,
  requirement: EvidenceRequirement,
  attestors: readonly string[],
): Record<string, unknown>[] {
  const { label, predicateType } = EVIDENCE[kind];
  const list = `[${attestors.map((name) => `attestors.${name}`).join(', ')}]`;
  const payload = `extractPayload(image, attestations.${kind})`;
  const verified = {
    expression: everyImage(`verifyAttestationSignatures(image, attestations.${kind}, ${list}) > 0`),
    message: `no ${label} attestation (${predicateType}) signed like the image`,
  };
  if (kind === 'sbom') {
    return [
      verified,
      {
        expression: everyImage(`${payload}.predicate.bomFormat == 'CycloneDX'`),
        message: 'the SBOM attestation is not a CycloneDX document',
      },
    ];
  }
  return [
    verified,
    {
      expression: everyImage(
        `time.now() - timestamp(${payload}.predicate.metadata.scanFinishedOn) <= duration('${requirement.maxScanAge}')`,
      ),
      message: `the scan result is older than ${requirement.maxScanAge}: rescan the digest`,
    },
    ...severitiesFrom(requirement.blockSeverity).map((severity) => ({
      expression: everyImage(`int(${payload}.predicate.invocation.parameters.findings.${severity}) == 0`),
      message: `the scan found ${severity} findings`,
    })),
  ];
}

/** An ImageValidatingPolicy's spec with the evidence required, signed by its own attestors. */
function requireEvidenceInSpec(spec: Record<string, unknown>, requirement: EvidenceRequirement): boolean {
  const attestors = Array.isArray(spec.attestors)
    ? (spec.attestors as { name?: unknown }[])
        .map((a) => a.name)
        .filter((name): name is string => typeof name === 'string')
    : [];
  if (attestors.length === 0) return false;
  // Replaces what an earlier extension added (any evidence kind), so extending twice leaves one of each.
  const ours = (name: unknown) => (EVIDENCE_KINDS as readonly unknown[]).includes(name);
  const mentionsOurs = (v: { expression?: unknown }) =>
    typeof v.expression === 'string' &&
    EVIDENCE_KINDS.some((kind) => v.expression?.toString().includes(`attestations.${kind}`));
  const attestations = (Array.isArray(spec.attestations) ? (spec.attestations as { name?: unknown }[]) : []).filter(
    (a) => !ours(a.name),
  );
  spec.attestations = [
    ...attestations,
    ...requirement.kinds.map((kind) => ({ name: kind, intoto: { type: EVIDENCE[kind].predicateType } })),
  ];
  spec.validations = [
    ...(Array.isArray(spec.validations) ? (spec.validations as { expression?: unknown }[]) : []).filter(
      (v) => !mentionsOurs(v),
    ),
    ...requirement.kinds.flatMap((kind) => evidenceValidations(kind, requirement, attestors)),
  ];
  return true;
}

/**
 * Why the evidence cannot be required in this policy, or undefined: an ImageValidatingPolicy whose attestor ignores the
 * transparency log cannot verify legacy attestations in Kyverno 1.19 (it would refuse every image).
 */
export function evidencePolicyProblem(policyYaml: string, bundleFormat: 'legacy' | 'new'): string | undefined {
  if (bundleFormat !== 'legacy') return undefined;
  for (const doc of parseAllDocuments(policyYaml).map((d) => d.toJS() as Record<string, unknown> | null)) {
    if (doc?.kind !== 'ImageValidatingPolicy') continue;
    const attestors = ((doc.spec as { attestors?: unknown } | undefined)?.attestors ?? []) as {
      cosign?: { ctlog?: { insecureIgnoreTlog?: boolean } };
    }[];
    if (attestors.some((a) => a.cosign?.ctlog?.insecureIgnoreTlog)) {
      return (
        `Input "kyverno-policy": ${UNLOGGED_ATTESTATIONS_IMAGE_VALIDATING_POLICY}. Give attest-evidence a ClusterPolicy ` +
        "(sign-digest's kyverno-policy-kind: ClusterPolicy; the root action picks it by itself), or sign and attest " +
        'with a transparency log or as Sigstore bundles (bundle-format: new). Nothing was attested'
      );
    }
  }
  return undefined;
}

/** The form of each document of a policy file, for file names and summaries. */
export function policyKindOf(policyYaml: string): string | undefined {
  const kinds = parseAllDocuments(policyYaml).map((doc) => (doc.toJS() as { kind?: unknown } | null)?.kind);
  const kind = kinds.find((k): k is string => typeof k === 'string');
  return kind;
}

/**
 * sign-digest's policy, also requiring the evidence, signed by the same attestors as the image (same key, or same
 * identity, issuer and source repository): every verifyImages entry of a ClusterPolicy, every ImageValidatingPolicy.
 */
export function requireEvidenceInPolicy(policyYaml: string, requirement: EvidenceRequirement): string {
  const docs = parseAllDocuments(policyYaml).map((doc) => doc.toJS() as Record<string, unknown> | null);
  let entries = 0;
  for (const doc of docs) {
    if (doc?.kind === 'ImageValidatingPolicy') {
      if (requireEvidenceInSpec((doc.spec ?? {}) as Record<string, unknown>, requirement)) entries++;
      continue;
    }
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
      'Input "kyverno-policy": the policy has no verifyImages entry (ClusterPolicy) or attestor (ImageValidatingPolicy) to extend; pass the kyverno-policy output of sign-digest.',
    );
  }
  return docs.map((doc) => stringify(doc, { lineWidth: 0 })).join('---\n');
}
