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
export {
  type ArgvSettings,
  Cosign,
  type CosignOptions,
  type CosignSetup,
  checkCosignRequest,
  installCosign,
} from './cosign.js';
export {
  abilitiesOf,
  bundleFormatProblem,
  COSIGN_ABILITIES,
  type CosignAbilities,
  type CosignVersion,
  cosignVersionOf,
  parseCosignVersion,
  pinnedCosignV3,
} from './cosign-abilities.js';
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
export { shellCommand, shellQuote } from './shell.js';
export { fulcioChainOf, type SignDigestOptions, type SignDigestResult, signDigest } from './sign.js';
export {
  checkKeyInputs,
  describeBinding,
  prepareSigningCredentials,
  type ResolvedSigner,
  type SignerInputs,
  signerFromInputs,
  signerOf,
  verifierFromInputs,
} from './signer.js';
export { bundlesTookOver, type VerifiedSignature, type VerifySignatureOptions, verifySignature } from './verify.js';
