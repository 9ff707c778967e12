// The npm chain: pack one tarball, scan that tarball, publish exactly it, read it back.
export { type ContentsFinding, DEFAULT_DENY, pathGlob, reviewContents } from './contents-policy.js';
export { holdsIdToken } from './id-token.js';
export { compareInstallFacts, INSTALL_HOOKS, type InstallFacts, installFacts, normaliseBin } from './install-facts.js';
export { hashBytes, hashFile, integrityProblem, type TarballHash, verifyTarball } from './integrity.js';
export { checkManifest, type ManifestFinding } from './manifest-check.js';
export { type NpmSandbox, npmSandbox, registryKey } from './npm-env.js';
export { type PackOptions, type PackResult, packDirectory } from './pack.js';
export { type PackEntry, parsePackJson } from './pack-json.js';
export { type Attempt, type PollOptions, poll, readBackPolicy } from './poll.js';
export { checkProvenance, npmPurl, type ProvenanceCheck, provenanceSubjectProblem } from './provenance.js';
export {
  type Access,
  type ProvenanceMode,
  PUBLIC_REGISTRY,
  type PublishOptions,
  type PublishResult,
  publishTarball,
} from './publish.js';
export { type PublishConfigReview, reviewPublishConfig } from './publish-config.js';
export { type Expected, type Packument, type ReadBack, readBack } from './readback.js';
export {
  describeAnswer,
  escapedName,
  type HttpAnswer,
  NetworkError,
  RegistryHttp,
  registryProblem,
  registryUrl,
  transientStatus,
} from './registry-http.js';
export { type DependencyTree, dependencyTree } from './resolve-deps.js';
export { type NpmScanReport, npmScanSummary } from './scan-summary.js';
export { parseSecretReport, type SecretFinding, trivySecrets } from './secret-scan.js';
export {
  DEFAULT_LIMITS,
  entryNameProblem,
  readTarball,
  readTarballFiles,
  readTarballManifest,
  refused,
  type TarballFile,
  type TarballLimits,
  type TarballListing,
} from './tarball.js';
export { exchangeOidcToken } from './trusted-publishing.js';
export { unpackTarball } from './unpack.js';
