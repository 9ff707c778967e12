import { inputProblem, UserError } from '@golden-image/kit';
import { splitTags, tagsForImages } from './tag-rule.js';
import { expandTagTemplate } from './tag-template.js';

/** The rolling tags a release moves when the caller names no tags at all. */
export function defaultRollingTags(event: string | undefined): string[] {
  return event === 'schedule' ? ['latest', 'nightly', 'nightly-{date}'] : ['latest'];
}

/**
 * The tags of one release, shared by the root action and (in shell, checked by a test) the reusable workflow:
 * - `tags` (bare tags or full references, docker/metadata-action's output as it is) are split by the tag rule;
 *   sha-<short commit> is added when they hold no immutable tag (so empty means sha-<short commit>);
 * - `rolling-tags` are rolling whatever they look like, `{date}` expanded;
 * - with neither given: latest, plus nightly and nightly-{date} on scheduled runs.
 */
export function releaseTags(
  input: { tags: readonly string[]; rollingTags: readonly string[] },
  images: readonly string[],
  env: NodeJS.ProcessEnv,
  now: Date,
): { immutable: string[]; rolling: string[] } {
  const { immutable, rolling } = splitTags(tagsForImages(input.tags, images));
  if (immutable.length === 0) {
    // Every release gets a name that never moves: the commit's, when the caller's tags hold no immutable one.
    const sha = env.GITHUB_SHA;
    if (!sha || !/^[0-9a-f]{40}$/.test(sha))
      throw new UserError(
        inputProblem(
          'tags',
          'holds no immutable tag (sha-<commit> or a full version) and GITHUB_SHA is not set: give one',
        ),
      );
    immutable.push(`sha-${sha.slice(0, 7)}`);
  }
  const templates =
    input.rollingTags.length > 0
      ? input.rollingTags
      : input.tags.length > 0
        ? []
        : defaultRollingTags(env.GITHUB_EVENT_NAME);
  const expanded = templates.map((template) => {
    const { tag, problem } = expandTagTemplate(template, now);
    if (problem) throw new UserError(inputProblem('rolling-tags', problem));
    return tag as string;
  });
  const extra = tagsForImages(expanded, images, 'rolling-tags');
  return { immutable, rolling: [...new Set([...rolling, ...extra])] };
}
