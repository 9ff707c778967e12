export { defaultUpload, type UploadFn, uniqueArtifactName, uploadFileArtifact } from './artifact.js';
export { type DirectoryScan, type DirectoryScanOptions, scanDirectory } from './dir-scan.js';
export { type Finding, type FindingKind, splitFixedVersions } from './finding.js';
export { resolveIgnoreFiles } from './ignore-input.js';
export { imageLabel, layoutSummary, renamedTarget, withImageTargets } from './layout-report.js';
export { singlePlatformLayout } from './layout-split.js';
export { resolveOsvOfflineDb } from './osv-offline-db.js';
export { gateOsvReport, type OsvGate, type OsvGateOptions, parseOsvJson } from './osv-report.js';
export { type OsvRun, osvScan } from './osv-run.js';
export { annotateFindings, repoSummary, withoutUnscored } from './repo-report.js';
export { buildSarif, type SarifRun, sarifUri } from './sarif.js';
export { scannerEnv } from './scanner-env.js';
export {
  COUNT_KEYS,
  emptyCounts,
  type FindingSeverity,
  isSeverity,
  normalSeverity,
  SECURITY_SEVERITY,
  SEVERITIES,
  type Severity,
  type SeverityCounts,
  severityFromScore,
  severityInput,
  severityThresholdInput,
} from './severity.js';
export { countsTable, findingsTable, ignoreSection, SUMMARY_ROW_LIMIT } from './summary.js';
export { readSbom, SBOM_FORMATS, type SbomFormat, type SbomInfo, syftDir } from './syft.js';
export {
  actionsDbCache,
  type DbCache,
  isLoopbackRegistry,
  parseDbReference,
  TRIVY_DBS,
  type TrivyDbKind,
  type TrivyDbSource,
  type TrivyDbSpec,
  type TrivyDbUse,
  trivyDbSummary,
} from './trivy-db.js';
export { trivyGlobMatch, validTrivyGlob } from './trivy-glob.js';
export {
  IGNORE_SECTIONS,
  type IgnoreEntry,
  IgnoreRules,
  type IgnoreSection,
  loadIgnoreFiles,
  parsePlainIgnore,
  parseYamlIgnore,
} from './trivy-ignore.js';
export { parseTrivyPurl, type TrivyPurl, trivyPurlMatch } from './trivy-purl.js';
export { gateTrivyReport, parseTrivyJson, type TrivyGate, type TrivyGateOptions } from './trivy-report.js';
export {
  closeTrivySession,
  openTrivySession,
  type TrivySession,
  type TrivySessionOptions,
  trivyDbsUsed,
  trivyFs,
  trivyImage,
  trivySecretScan,
} from './trivy-run.js';
