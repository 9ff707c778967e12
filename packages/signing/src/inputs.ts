import { booleanInput, optionalCheckedString, show } from '@golden-image/kit';
import type { SigstoreInstance } from './args.js';

/** Input schemas shared by sign-digest, promote-tags and the root action: who signed, and with what. */
export const noWhitespace = (what: string) => (value: string) =>
  /\s/.test(value) ? `${what} must not contain whitespace, got ${show(value)}` : undefined;

/** https, or plain http to this machine only (a test issuer or a private instance on loopback). */
const serviceUrl = (value: string) =>
  /^https:\/\/\S+$/.test(value) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/\S*)?$/.test(value)
    ? undefined
    : `must be an https:// URL (plain http only to 127.0.0.1 or localhost), got ${show(value)}`;

export const identityInput = () => optionalCheckedString(noWhitespace('the identity'));
export const issuerInput = () => optionalCheckedString(serviceUrl);
export const keyInput = () => optionalCheckedString(noWhitespace('a key reference'));

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
