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
  identityRegExpHint,
  identityRegExpInput,
  issuerInput,
  keyInput,
  noWhitespace,
  sigstoreInputSpec,
  sigstoreInstanceOf,
  sourceInputSpec,
} from './inputs.js';
export { isKmsUri, keyReferenceProblem, type PublicKey, publicKeyOf } from './key.js';
export {
  anyRefPattern,
  buildClusterPolicy,
  buildImageValidatingPolicy,
  buildPolicy,
  choosePolicyKind,
  defaultImageReferences,
  escapeRegExp,
  everyImage,
  type IdentityMatch,
  IVP_ATTESTOR,
  KEYLESS_IMAGE_VALIDATING_POLICY,
  POLICY_KIND_CHOICES,
  type PolicyContext,
  type PolicyInstance,
  type PolicyKind,
  type PolicyKindChoice,
  type PolicyOptions,
  type PolicySigner,
  policyName,
  policyYaml,
  REKOR_URL,
  sourceExtensions,
  UNLOGGED_ATTESTATIONS_IMAGE_VALIDATING_POLICY,
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
export {
  fulcioChainOf,
  policyKindProblem,
  type SignDigestOptions,
  type SignDigestResult,
  signDigest,
} from './sign.js';
export {
  checkIdentityInputs,
  checkKeyInputs,
  describeBinding,
  prepareSigningCredentials,
  type ResolvedSigner,
  type SignerInputs,
  signerFromInputs,
  signerOf,
  unanchoredNote,
  verifierFromInputs,
} from './signer.js';
export { bundlesTookOver, type VerifiedSignature, type VerifySignatureOptions, verifySignature } from './verify.js';
