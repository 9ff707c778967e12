// Who signed, worked out once from an action's inputs: by sign-digest and attest-evidence (which sign, and so may
// ask the GitHub OIDC token what identity Fulcio will certify) and by promote-tags and its evidence checks (which
// only verify, and so must be told).
import { readFileSync } from 'node:fs';
import { type ActionContext, inputProblem, UserError } from '@golden-image/kit';
import type { Signer, SourceBinding } from './args.js';
import type { Cosign } from './cosign.js';
import { isKmsUri, type PublicKey, publicKeyOf } from './key.js';
import {
  decodeJwtClaims,
  fetchGithubIdToken,
  type IdTokenFetcher,
  identityFromClaims,
  requireGithubOidc,
  SIGSTORE_AUDIENCE,
} from './oidc.js';

/** The signer inputs sign-digest, attest-evidence and promote-tags share (identityInput, sourceInputSpec, …). */
export interface SignerInputs {
  key?: string;
  /** The public half of `key`, when the step is given it (sign-digest's public-key output): not derived again. */
  'public-key'?: string;
  'certificate-identity'?: string;
  'certificate-identity-regexp'?: string;
  'certificate-oidc-issuer'?: string;
  'source-repository'?: string;
  'source-ref'?: string;
  'source-trigger'?: string;
  'fulcio-url'?: string;
}

/** The inputs that only mean something for a keyless signature. */
const KEYLESS_ONLY = [
  'certificate-identity',
  'certificate-identity-regexp',
  'certificate-oidc-issuer',
  'source-repository',
  'source-ref',
  'source-trigger',
  'fulcio-url',
] as const;

/**
 * Before any side effect, in a step that signs: a key excludes the keyless inputs. `what` names what is signed in
 * the message ("signing", "attestations").
 */
export function checkKeyInputs(input: SignerInputs, what: 'signing' | 'attestations'): void {
  checkIdentityInputs(input);
  if (!input.key) {
    if (input['public-key'])
      throw new UserError(
        inputProblem('public-key', 'is the public half of "key", which is empty: give both, or neither (keyless)'),
      );
    return;
  }
  const misplaced = KEYLESS_ONLY.filter((name) => input[name]);
  if (misplaced.length > 0) {
    throw new UserError(
      inputProblem(
        'key',
        `key-based ${what} ${what === 'signing' ? 'is' : 'are'} verified with the key; leave ${misplaced.join(', ')} empty`,
      ),
    );
  }
}

/** certificate-identity is exact, certificate-identity-regexp a pattern: one or the other. */
export function checkIdentityInputs(input: SignerInputs): void {
  if (input['certificate-identity'] && input['certificate-identity-regexp']) {
    throw new UserError(
      inputProblem(
        'certificate-identity-regexp',
        'give either certificate-identity (matched exactly) or certificate-identity-regexp (a pattern), not both',
      ),
    );
  }
}

/** A note when an identity pattern is not anchored: cosign and Kyverno match it anywhere in the identity. */
export function unanchoredNote(pattern: string | undefined): string | undefined {
  if (!pattern || (pattern.startsWith('^') && pattern.endsWith('$'))) return undefined;
  return (
    `certificate-identity-regexp ${JSON.stringify(pattern)} is not anchored with ^ and $: cosign and Kyverno match it ` +
    'anywhere in the certificate identity, so an identity that merely contains a match passes too ' +
    '(https://github.com/evil/x/.github/workflows/y.yml@refs/heads/https://github.com/org/...). Anchor it: ^…$.'
  );
}

/**
 * Before any side effect, in a step that signs (`signs` false: one that will not sign this time): keyless needs
 * the job's OIDC token; a key's password is masked, and its absence said.
 */
export function prepareSigningCredentials(ctx: ActionContext, key: string | undefined, signs = true): void {
  if (!key) {
    if (signs) requireGithubOidc(ctx.env);
  } else if (ctx.env.COSIGN_PASSWORD) ctx.secret(ctx.env.COSIGN_PASSWORD);
  else if (!isKmsUri(key)) ctx.info('COSIGN_PASSWORD is not set: cosign will use an empty key password.');
}

/** A signer as the signing step knows it: what verification binds, and what the policy and the summary say. */
export interface ResolvedSigner {
  signer: Signer;
  /** Key-based: the public half (a .pub file and its PEM, or the KMS URI). */
  publicKey?: PublicKey;
  /** Keyless: the workflow that called the reusable workflow that signs, when there is one. */
  caller?: string;
  /** Things the caller should know (warnings, said in the summary too). */
  notes: string[];
}

/**
 * The signer of a step that signs. Key: its public half, exported with `cosign public-key` before anything is
 * signed (a wrong COSIGN_PASSWORD fails first). Keyless: the identity and issuer given, else those the job's OIDC
 * token will be certified as (the workflow file the job runs: a reusable workflow's own, not its caller's), bound
 * to the source repository given, else the token's repository claim, else GITHUB_REPOSITORY; ref and trigger only
 * when asked for.
 */
export async function signerFromInputs(
  ctx: ActionContext,
  cosign: Cosign,
  input: SignerInputs,
  fetchIdToken: IdTokenFetcher = fetchGithubIdToken,
): Promise<ResolvedSigner> {
  if (input.key) {
    const publicKey = input['public-key']
      ? givenPublicKey(input['public-key'])
      : await publicKeyOf(ctx, cosign, input.key);
    return { signer: { key: publicKey.verifyKey }, publicKey, notes: [] };
  }
  const pattern = input['certificate-identity-regexp'];
  let identity = pattern ?? input['certificate-identity'];
  let issuer = input['certificate-oidc-issuer'];
  let repository = input['source-repository'];
  let caller: string | undefined;
  if (!identity || !issuer || !repository) {
    const token = await fetchIdToken(ctx.env, SIGSTORE_AUDIENCE);
    ctx.secret(token);
    const predicted = identityFromClaims(decodeJwtClaims(token));
    if (pattern && !new RegExp(pattern).test(predicted.identity)) {
      throw new UserError(
        inputProblem(
          'certificate-identity-regexp',
          `${JSON.stringify(pattern)} does not match ${predicted.identity}, the identity this job's OIDC token will be ` +
            'certified as: the signature would fail its own verification. Nothing was signed',
        ),
      );
    }
    identity ??= predicted.identity;
    issuer ??= predicted.issuer;
    caller = predicted.caller;
    repository ??= predicted.repository;
  }
  const notes: string[] = [];
  const unanchored = unanchoredNote(pattern);
  if (unanchored) notes.push(unanchored);
  const source = bindSource({ ...input, 'source-repository': repository }, ctx.env, notes);
  return {
    signer: { identity, ...(pattern ? { identityRegExp: true } : {}), issuer, ...(source ? { source } : {}) },
    ...(caller ? { caller } : {}),
    notes,
  };
}

/** A public key the step was given (a .pub file, or a KMS URI): its PEM is read, not derived. */
function givenPublicKey(ref: string): PublicKey {
  if (isKmsUri(ref)) return { verifyKey: ref, kms: ref };
  return { verifyKey: ref, pem: readFileSync(ref, 'utf8').trim() };
}

/**
 * The signer a step that only verifies insists on (promote-tags, its evidence checks), checked before any side
 * effect: a key, or both identity and issuer. Keyless, the source repository defaults to the run's own
 * (GITHUB_REPOSITORY): the identity of a reusable workflow is shared by every repository that calls it.
 */
export function verifierFromInputs(ctx: ActionContext, input: SignerInputs, requiredBy: string): Signer {
  let signer: Signer;
  try {
    checkIdentityInputs(input);
    signer = signerOf({
      identity: input['certificate-identity'],
      identityRegExp: input['certificate-identity-regexp'],
      issuer: input['certificate-oidc-issuer'],
      key: input.key,
      source: input.key
        ? undefined
        : {
            repository: input['source-repository'] ?? ctx.env.GITHUB_REPOSITORY,
            ref: input['source-ref'],
            trigger: input['source-trigger'],
          },
    });
  } catch (error) {
    throw new UserError(
      `${inputProblem(requiredBy, 'is true, so the signer must be named')}: ${(error as Error).message} ` +
        `Pass the certificate-identity and certificate-oidc-issuer outputs of sign-digest (or key, or a pattern as certificate-identity-regexp), or set ${requiredBy}: false.`,
    );
  }
  if (input.key && (input['source-repository'] || input['source-ref'] || input['source-trigger'])) {
    throw new UserError(
      inputProblem(
        'key',
        'a key signature carries no certificate; leave source-repository, source-ref and source-trigger empty',
      ),
    );
  }
  if (signer.key === undefined) {
    const unanchored = unanchoredNote(input['certificate-identity-regexp']);
    if (unanchored) ctx.warning(unanchored);
    const from = input['source-repository'] ? 'the source-repository input' : "GITHUB_REPOSITORY, the run's own";
    if (signer.source?.repository) {
      ctx.info(`The signature check binds ${describeBinding(signer)} (source repository from ${from}).`);
    } else {
      ctx.warning(
        `The signature check binds only ${describeBinding(signer)}. The identity names the workflow file that signed; ` +
          'when that is a reusable workflow, every repository that calls it gets the same identity, so their signatures ' +
          'pass too. Set source-repository (owner/name) to bind the repository whose run signed.',
      );
    }
  }
  return signer;
}

/** The source a keyless signature is bound to: the repository (or a note that none is), ref and trigger. */
function bindSource(input: SignerInputs, env: NodeJS.ProcessEnv, notes: string[]): SourceBinding | undefined {
  const repository = input['source-repository'] ?? env.GITHUB_REPOSITORY;
  if (!repository) {
    notes.push(
      'No source repository is bound (the token has no repository claim and GITHUB_REPOSITORY is not set): any ' +
        'repository that runs the same workflow file can make a signature that passes. Set "source-repository".',
    );
  }
  const source = { repository, ref: input['source-ref'], trigger: input['source-trigger'] };
  return Object.values(source).some(Boolean)
    ? (Object.fromEntries(Object.entries(source).filter(([, v]) => v)) as SourceBinding)
    : undefined;
}

/** The signer a verification is pinned to; throws a UserError unless exactly one of key / identity+issuer is given. */
export function signerOf(options: {
  identity?: string;
  /** A pattern instead of the exact identity (certificate-identity-regexp); a string here, a flag on the Signer. */
  identityRegExp?: string | boolean;
  issuer?: string;
  key?: string;
  source?: SourceBinding;
}): Signer {
  if (typeof options.identityRegExp === 'string') {
    return signerOf({ ...options, identity: options.identityRegExp, identityRegExp: true });
  }
  if (options.key) {
    if (options.identity || options.issuer) {
      throw new UserError(
        'Give either a key or a certificate identity and issuer for signature verification, not both.',
      );
    }
    return { key: options.key };
  }
  if (!options.identity || !options.issuer) {
    throw new UserError(
      'Signature verification needs both "certificate-identity" (or "certificate-identity-regexp") and "certificate-oidc-issuer" (keyless), or "key".',
    );
  }
  const source = options.source && Object.values(options.source).some(Boolean) ? options.source : undefined;
  return {
    identity: options.identity,
    ...(options.identityRegExp ? { identityRegExp: true } : {}),
    issuer: options.issuer,
    ...(source ? { source } : {}),
  };
}

/** One line for people: what a verification with this signer accepts, and what it leaves open. */
export function describeBinding(signer: Signer): string {
  if (signer.key !== undefined) return `any signature made with the key ${signer.key}`;
  const source = signer.source ?? {};
  const bound = [
    signer.identityRegExp ? `identity matching ${signer.identity}` : `identity ${signer.identity}`,
    `issuer ${signer.issuer}`,
    ...(source.repository ? [`source repository ${source.repository}`] : []),
    ...(source.ref ? [`ref ${source.ref}`] : []),
    ...(source.trigger ? [`trigger ${source.trigger}`] : []),
  ];
  const open = [
    ...(source.repository ? [] : ['source repository']),
    ...(source.ref ? [] : ['ref']),
    ...(source.trigger ? [] : ['trigger']),
  ];
  return `${bound.join(', ')}${open.length ? `; not bound: ${open.join(', ')}` : ''}`;
}
