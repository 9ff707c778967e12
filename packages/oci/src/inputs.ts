import { checkedString, inputProblem, optionalCheckedString, show, UserError } from '@golden-image/kit';
import { digestProblem } from './digest.js';
import { bareTag, imageProblem } from './reference.js';

/** Input schemas shared by every action that speaks the hand-off contract. */
export const imageInput = () => checkedString(imageProblem, 'registry/repository, for example ghcr.io/owner/app');
export const digestInput = () =>
  checkedString(digestProblem, 'the digest output of the step before, for example sha256:2c26b46b…');

/** The `platforms` hand-off value (push-layout's output): a JSON object of platform to manifest digest. */
export function platformsProblem(value: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return `must be the platforms output of push-layout, a JSON object such as {"linux/amd64":"sha256:…"}, got ${show(value)}`;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    return `must be a JSON object of platform to manifest digest, got ${show(value)}`;
  for (const [platform, digest] of Object.entries(parsed)) {
    if (!/^[a-z0-9._-]+\/[a-z0-9._-]+(?:\/[a-z0-9._-]+)?$/.test(platform))
      return `${show(platform)} is not a platform (os/architecture[/variant])`;
    const problem = typeof digest === 'string' ? digestProblem(digest) : `${show(String(digest))} is not a digest`;
    if (problem) return `${platform}: ${problem}`;
  }
  return undefined;
}

export const platformsInput = () =>
  optionalCheckedString(platformsProblem).transform((value) =>
    value === undefined ? undefined : (JSON.parse(value) as Record<string, string>),
  );

/**
 * Resolves the entries of a "tags" input (bare tags or full references of `image`) to unique bare tags,
 * in the order given. Every bad entry is reported, in one error naming the input.
 */
export function resolveTags(entries: readonly string[], image: string, input = 'tags'): string[] {
  const tags: string[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const { tag, problem } = bareTag(entry, image);
    if (problem) problems.push(problem);
    else if (tag && !tags.includes(tag)) tags.push(tag);
  }
  if (problems.length > 0) throw new UserError(problems.map((problem) => inputProblem(input, problem)).join('\n'));
  return tags;
}
