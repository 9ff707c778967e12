export { authFileFor, withAuthFile } from './auth.js';
export { type ClaimOptions, claimTags, TAG_SETTLE_MS, takenMessage } from './claim.js';
export { classifyFailure, type Failure, fatalLine, hintFor, neutralLine } from './classify.js';
export { Imagetools } from './imagetools.js';
export { registryInputSpec } from './inputs.js';
export {
  acceptPlans,
  checkTagKinds,
  type PushOptions,
  type PushPlans,
  placeholderProblem,
  pushAndClaim,
  type ReadBack,
  readBackOf,
  readBackTags,
} from './push.js';
export {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  type RetryEvent,
  type RetryPolicy,
  retryDelayScale,
  retryPolicyFrom,
  scaledPolicy,
  withRetries,
} from './retry.js';
export { checkPushesUnchanged, MIN_SKOPEO, OCI11_SKOPEO, type RegistryOptions, Skopeo, SkopeoError } from './skopeo.js';
export type { TagEngine } from './tag-engine.js';
export { planTags, type TagPlan } from './tag-plan.js';
