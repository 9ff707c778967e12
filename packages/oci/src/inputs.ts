import { checkedString, inputProblem, UserError } from '@golden-image/kit';
import { digestProblem } from './digest.js';
import { bareTag, imageProblem } from './reference.js';

/** Input schemas shared by every action that speaks the hand-off contract. */
export const imageInput = () => checkedString(imageProblem, 'registry/repository, for example ghcr.io/owner/app');
export const digestInput = () =>
  checkedString(digestProblem, 'the digest output of the step before, for example sha256:2c26b46b…');

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
