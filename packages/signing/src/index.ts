export { type BundleFormat, registryFlags, type Signer, signArgs, signatureLocation, verifyArgs } from './args.js';
export { identityInput, issuerInput, keyInput, noWhitespace } from './inputs.js';
export { isKmsUri, type PublicKey, publicKeyOf } from './key.js';
export {
  anyRefPattern,
  buildClusterPolicy,
  defaultImageReferences,
  escapeRegExp,
  type IdentityMatch,
  type PolicyOptions,
  type PolicySigner,
  policyName,
  policyYaml,
  REKOR_URL,
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
export { shellCommand, shellQuote } from './shell.js';
export { type SignDigestOptions, type SignDigestResult, signDigest } from './sign.js';
export { signerOf, type VerifiedSignature, type VerifySignatureOptions, verifySignature } from './verify.js';
export { type CosignVersion, detectCosignVersion, parseCosignVersion } from './version.js';
