/** The evidence attached to a digest: its SBOM and its vulnerability scan result. */
export type EvidenceKind = 'sbom' | 'vuln';

export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['sbom', 'vuln'];

export interface EvidenceType {
  /** What `cosign attest --type` is given. */
  cosignType: string;
  /** The in-toto predicateType cosign writes for it, which Kyverno `attestations[].type` names. */
  predicateType: string;
  label: string;
}

/**
 * The SBOM is CycloneDX (cosign's `cyclonedx`). The scan result is cosign's `vuln` predicate, the format Trivy
 * itself writes with `--format cosign-vuln`: cosign keeps only its fields (invocation, scanner, metadata), and
 * `invocation.parameters` and `scanner.result` hold any JSON.
 */
export const EVIDENCE: Record<EvidenceKind, EvidenceType> = {
  sbom: { cosignType: 'cyclonedx', predicateType: 'https://cyclonedx.org/bom', label: 'CycloneDX SBOM' },
  vuln: {
    cosignType: 'vuln',
    predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
    label: 'vulnerability scan result',
  },
};

export function isEvidenceKind(value: string): value is EvidenceKind {
  return (EVIDENCE_KINDS as readonly string[]).includes(value);
}
