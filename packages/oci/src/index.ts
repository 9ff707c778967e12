export { DIGEST_PATTERN, digestProblem, isDigest, sha256Digest, sha256File } from './digest.js';
export { digestInput, imageInput, platformsInput, platformsProblem, resolveTags } from './inputs.js';
export {
  type Descriptor,
  describeVerification,
  formatPlatform,
  isRunnable,
  LIMITS,
  type Platform,
  type PlatformManifest,
  platformDigests,
  type VerifiedLayout,
  type VerifyOptions,
  verifyLayout,
} from './layout.js';
export { singleImageView } from './layout-view.js';
export * from './media-types.js';
export { type MergedManifest, type MergeInput, type MergeOptions, type MergeResult, mergeLayouts } from './merge.js';
export { hashFiles } from './merge-hash.js';
export { annotationsOf, type Origin, originOf, REVISION, SOURCE, sameCommit } from './origin.js';
export { bareTag, digestRef, imageProblem, registryOf, tagProblem, tagRef } from './reference.js';
export { defaultRollingTags, releaseTags } from './release-tags.js';
export {
  imagesInput,
  isImmutableTag,
  singleRegistryProblem,
  splitTags,
  TAG_RULE,
  tagsForImages,
} from './tag-rule.js';
export { expandTagTemplate } from './tag-template.js';
