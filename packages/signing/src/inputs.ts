import { optionalCheckedString, show } from '@golden-image/kit';

/** Input schemas shared by sign-digest, promote-tags and the root action: who signed, and with what. */
export const noWhitespace = (what: string) => (value: string) =>
  /\s/.test(value) ? `${what} must not contain whitespace, got ${show(value)}` : undefined;

export const identityInput = () => optionalCheckedString(noWhitespace('the identity'));
export const issuerInput = () =>
  optionalCheckedString((value) =>
    /^https:\/\/\S+$/.test(value) ? undefined : `must be an https:// URL, got ${show(value)}`,
  );
export const keyInput = () => optionalCheckedString(noWhitespace('a key reference'));
