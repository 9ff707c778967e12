export { type Annotation, annotateIndex, manifestAnnotationsFor, parseAnnotationEntry } from './annotations.js';
export { type BuildahOptions, buildahArgs, buildahProblems, buildWithBuildah } from './buildah.js';
export { buildWithBuildx, buildxArgs, MIN_GHA_BUILDX, parseBuildxVersion } from './buildx.js';
export { pullAdvice, syntaxDirective } from './buildx-advice.js';
export { defaultCache, defaultCacheScope } from './cache.js';
export { prepareLayoutDir } from './layout-dir.js';
export { type BuildxMetadata, type BuildxResultMetadata, buildDigest, parseBuildxMetadata } from './metadata.js';
export { buildOrigin, originAnnotations } from './origin.js';
export { checkPlatforms, normalizePlatform, uniquePlatforms } from './platforms.js';
export {
  absoluteAfterEquals,
  absoluteSecret,
  pathProblems,
  type SecretFile,
  sourceDateEpoch,
} from './request-paths.js';
export { buildSecretsInput, writeBuildSecrets } from './secret-files.js';
export { buildSummary } from './summary.js';
export type { BuildContext, BuildRequest, BuildResult } from './types.js';
export {
  annotationProblem,
  attestOn,
  attestProblem,
  buildArgProblem,
  buildContextProblem,
  cacheProblem,
  controlProblem,
  isLocalContext,
  labelProblem,
  parseAnnotation,
  parseSecret,
  parseSecretFile,
  platformProblem,
  secretFileProblem,
  secretProblem,
  sshProblem,
  targetProblem,
} from './validate.js';
