import { booleanInput, optionalCheckedString, show } from '@golden-image/kit';
import type { SigstoreInstance } from './args.js';
import { keyReferenceProblem } from './key.js';

/** Input schemas shared by sign-digest, promote-tags and the root action: who signed, and with what. */
export const noWhitespace = (what: string) => (value: string) =>
  /\s/.test(value) ? `${what} must not contain whitespace, got ${show(value)}` : undefined;

/** https, or plain http to this machine only (a test issuer or a private instance on loopback). */
const serviceUrl = (value: string) =>
  /^https:\/\/\S+$/.test(value) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/\S*)?$/.test(value)
    ? undefined
    : `must be an https:// URL (plain http only to 127.0.0.1 or localhost), got ${show(value)}`;

/**
 * Characters a certificate identity written as a regular expression holds and a GitHub workflow identity
 * (https://github.com/<owner>/<repo>/<path>@<git ref>) never does: git refuses * ? [ \\ ^ in ref names, GitHub
 * refuses them in repository names, and ( ) | { } $ and `.*`/`.+` do not occur in workflow paths or refs in practice.
 */
const REGEXP_HINT = /[*?^$|\\[\](){}]|\.\+/;

/** Why a certificate-identity looks like a regular expression (which cosign and Kyverno would match exactly), or undefined. */
export function identityRegExpHint(value: string): string | undefined {
  const found = REGEXP_HINT.exec(value)?.[0];
  if (!found) return undefined;
  return (
    `${show(value)} looks like a regular expression (it holds ${show(found)}), but certificate-identity is matched exactly ` +
    '(cosign --certificate-identity, Kyverno subject), so only a certificate naming literally that text would pass. Give the pattern as certificate-identity-regexp ' +
    'instead, anchored (^https://github\\.com/org/.*$), or the exact identity here'
  );
}

/** A regular expression for the certificate identity: it must compile; unanchored ones are matched anywhere (warned). */
const identityRegExpProblem = (value: string) => {
  const whitespace = noWhitespace('the identity pattern')(value);
  if (whitespace) return whitespace;
  try {
    new RegExp(value);
  } catch (error) {
    return `must be a regular expression (Go RE2 syntax, as cosign and Kyverno read it), got ${show(value)}: ${(error as Error).message}`;
  }
  return undefined;
};

export const identityInput = () =>
  optionalCheckedString((value) => noWhitespace('the identity')(value) ?? identityRegExpHint(value));
export const identityRegExpInput = () => optionalCheckedString(identityRegExpProblem);
export const issuerInput = () => optionalCheckedString(serviceUrl);
/**
 * A cosign key reference: a file (checked here: it must exist and be readable, so cosign's own error never comes
 * first), or a reference cosign resolves itself (KMS URIs, env://, k8s://, gitlab://, pkcs11:). `half` says which
 * half of the key pair the input takes, for the advice.
 */
export const keyInput = (half: 'private' | 'public' = 'private') =>
  optionalCheckedString((value) => noWhitespace('a key reference')(value) ?? keyReferenceProblem(value, half));

/** GitHub's own rules: an owner of letters, digits and hyphens; a name of letters, digits, '.', '_' and '-'. */
export const sourceRepositoryInput = () =>
  optionalCheckedString((value) =>
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/.test(value)
      ? undefined
      : `must be a GitHub repository as owner/name, got ${show(value)}`,
  );
export const sourceRefInput = () =>
  optionalCheckedString((value) =>
    /^refs\/\S+$/.test(value) ? undefined : `must be a full git ref such as refs/heads/main, got ${show(value)}`,
  );
export const sourceTriggerInput = () =>
  optionalCheckedString((value) =>
    /^[a-z_]+$/.test(value) ? undefined : `must be a GitHub event name such as push, got ${show(value)}`,
  );

/** What to bind a keyless verification to, besides identity and issuer. */
export const sourceInputSpec = () => ({
  'source-repository': sourceRepositoryInput(),
  'source-ref': sourceRefInput(),
  'source-trigger': sourceTriggerInput(),
});

/** A private Sigstore instance; all empty is the public-good one. */
export const sigstoreInputSpec = () => ({
  'fulcio-url': optionalCheckedString(serviceUrl),
  'rekor-url': optionalCheckedString(serviceUrl),
  'transparency-log': booleanInput(true),
  'ct-log': booleanInput(true),
  'certificate-chain': optionalCheckedString(noWhitespace('a file path')),
  'trusted-root': optionalCheckedString(noWhitespace('a file path')),
});

export function sigstoreInstanceOf(input: {
  'fulcio-url'?: string;
  'rekor-url'?: string;
  'transparency-log': boolean;
  'ct-log': boolean;
  'certificate-chain'?: string;
  'trusted-root'?: string;
}): SigstoreInstance {
  return {
    fulcioUrl: input['fulcio-url'],
    rekorUrl: input['rekor-url'],
    transparencyLog: input['transparency-log'],
    ctLog: input['ct-log'],
    certificateChain: input['certificate-chain'],
    trustedRoot: input['trusted-root'],
  };
}
