export { authFileFor, withAuthFile } from './auth.js';
export { type ClaimOptions, claimTags, TAG_SETTLE_MS, takenMessage } from './claim.js';
export type { TagEngine } from './client.js';
export { Imagetools } from './imagetools.js';
export { registryInputSpec } from './inputs.js';
export {
  backoffMs,
  classifyFailure,
  DEFAULT_RETRY_POLICY,
  type Failure,
  fatalLine,
  type RetryEvent,
  type RetryPolicy,
  retryPolicyFrom,
  withRetries,
} from './retry.js';
export { MIN_SKOPEO, type RegistryOptions, Skopeo, SkopeoError } from './skopeo.js';
