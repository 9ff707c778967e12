export { type AttachedEvidence, type AttachOptions, attachEvidence, type EvidenceItem } from './attach.js';
export { type Attachments, attachmentsOf, type Mechanism } from './attachments.js';
export {
  ATTEST_MODES,
  type AttestMode,
  attestationsOutput,
  attestSummary,
  type CollectOptions,
  checkModeInputs,
  checkRescan,
  collectEvidence,
  evidenceGate,
  findingsOf,
  readKyvernoPolicy,
  recordedTrivyDb,
  reportedTrivyDbs,
  runOf,
  writeKyvernoPolicy,
  writePrepared,
} from './attest-step.js';
export {
  type AttestationTarget,
  attachAttestation,
  attestArgs,
  cosignAttestArgs,
  cosignVerifyAttestationArgs,
  parseStatements,
  type Statement,
  verifiedStatements,
  verifyAttestationArgs,
  verifyAttestationCommand,
} from './cosign-attest.js';
export { checkEvidenceCovers, readEvidenceDir, writeEvidenceDir } from './evidence-dir.js';
export { type AttestProvenance, githubProvenance, type ProvenanceMode } from './github-provenance.js';
export { EVIDENCE, EVIDENCE_KINDS, type EvidenceKind, type EvidenceType, isEvidenceKind } from './kinds.js';
export {
  attestationsBlock,
  evidenceConditions,
  evidencePolicyProblem,
  evidenceValidations,
  policyKindOf,
  requireEvidenceInPolicy,
} from './kyverno-attestations.js';
export { evidenceItems, type PredicateContext, type PrepareOptions, prepareEvidence } from './prepare.js';
export { type RequireEvidenceOptions, requireEvidence } from './promotion.js';
export { pushedPlatforms } from './pushed-platforms.js';
export {
  DEFAULT_BLOCK_SEVERITY,
  DEFAULT_MAX_SCAN_AGE,
  durationMs,
  durationProblem,
  type EvidenceRequirement,
  evidenceRequirementInputs,
  requirementOf,
  scanProblems,
  severitiesFrom,
} from './requirement.js';
export { type Rescan, type RescanOptions, rescanDigest } from './rescan.js';
export { indexSbom, syftLayout } from './sbom.js';
export { type GateOptions, readScanReport } from './scan-report.js';
export { dbRecords, scanReportDbs, type TrivyDbRecord, type TrivyDbRecords } from './trivy-db.js';
export {
  type FindingCounts,
  type GateSettings,
  type PlatformScan,
  sumCounts,
  type VulnPredicateOptions,
  vulnPredicate,
} from './vuln-predicate.js';
