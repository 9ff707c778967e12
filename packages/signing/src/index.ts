export {
  type BundleFormat,
  isPublicGood,
  PUBLIC_GOOD,
  registryFlags,
  type Signer,
  type SigstoreInstance,
  type SourceBinding,
  signArgs,
  signatureLocation,
  verifyArgs,
} from './args.js';
export { cosignV3Fallback } from './cosign-v3-fallback.js';
export {
  identityInput,
  issuerInput,
  keyInput,
  noWhitespace,
  sigstoreInputSpec,
  sigstoreInstanceOf,
  sourceInputSpec,
} from './inputs.js';
export { isKmsUri, type PublicKey, publicKeyOf } from './key.js';
export {
  anyRefPattern,
  buildClusterPolicy,
  defaultImageReferences,
  escapeRegExp,
  type IdentityMatch,
  type PolicyInstance,
  type PolicyOptions,
  type PolicySigner,
  policyName,
  policyYaml,
  REKOR_URL,
  sourceExtensions,
} from './kyverno.js';
export {
  decodeJwtClaims,
  fetchGithubIdToken,
  GITHUB_OIDC_ISSUER,
  hasGithubOidc,
  type IdTokenFetcher,
  identityFromClaims,
  type KeylessIdentity,
  requireGithubOidc,
  SIGSTORE_AUDIENCE,
} from './oidc.js';
export { withCosignAuth } from './registry-auth.js';
export { shellCommand, shellQuote } from './shell.js';
export {
  fulcioChainOf,
  type SignDigestOptions,
  type SignDigestResult,
  type SourceRequest,
  signDigest,
} from './sign.js';
export {
  bundlesTookOver,
  describeBinding,
  signerOf,
  type VerifiedSignature,
  type VerifySignatureOptions,
  verifySignature,
  withTrustedRootFromChain,
} from './verify.js';
export { type CosignVersion, detectCosignVersion, parseCosignVersion } from './version.js';
