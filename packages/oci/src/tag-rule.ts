import { inputProblem, listInput, show, UserError } from '@golden-image/kit';
import { bareTag, imageProblem, registryOf } from './reference.js';

/**
 * The tag rule. A tag is immutable only when it names one build for good:
 * - `sha-` and 7 to 64 lowercase hex characters (docker/metadata-action's `type=sha`, short or long);
 * - a full version, `[v]MAJOR.MINOR.PATCH` with an optional pre-release (`1.2.3`, `v1.2.3`, `1.2.3-rc.1`).
 * Every other tag is rolling: `latest`, branch names, `pr-12`, `1.2` and `1` (they move with each patch release),
 * `edge`, `nightly`, dates. When in doubt a tag is rolling, so a rolling tag is never refused as "already taken":
 * a first push of `:main` cannot make every later commit fail.
 */
const IMMUTABLE = [/^sha-[0-9a-f]{7,64}$/, /^v?(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/];

export function isImmutableTag(tag: string): boolean {
  return IMMUTABLE.some((pattern) => pattern.test(tag));
}

export const TAG_RULE =
  'immutable: sha-<7 to 64 hex> and full versions ([v]1.2.3, 1.2.3-rc.1); every other tag (latest, branch names, 1.2, pr-12) is rolling';

/** Splits bare tags by the tag rule, keeping their order. */
export function splitTags(tags: readonly string[]): { immutable: string[]; rolling: string[] } {
  return {
    immutable: tags.filter(isImmutableTag),
    rolling: tags.filter((tag) => !isImmutableTag(tag)),
  };
}

/** One image, or several (one per line or comma-separated): the same bytes go to each. */
export const imagesInput = () =>
  listInput({
    required: 'registry/repository, for example ghcr.io/owner/app (several: one per line)',
    check: imageProblem,
  }).transform((images) => [...new Set(images)]);

/**
 * Resolves a "tags" input for several images: bare tags apply to every image; a full reference (as
 * docker/metadata-action writes them, one per image and tag) to the image it names, which must be one of `images`.
 * Every image must end with the same tags, so the same bytes carry the same names everywhere. Returns bare tags.
 */
export function tagsForImages(entries: readonly string[], images: readonly string[], input = 'tags'): string[] {
  const perImage = new Map(images.map((image) => [image, [] as string[]]));
  const problems: string[] = [];
  for (const entry of entries) {
    const target = images.find((image) => entry.startsWith(`${image}:`));
    const { tag, problem } = bareTag(entry, target ?? images[0] ?? '');
    if (problem?.includes('names another image') && images.length > 1) {
      problems.push(
        `${show(entry)} names another image than ${images.map((image) => show(image)).join(', ')}; tags must belong to the "image" input`,
      );
      continue;
    }
    if (problem) problems.push(problem);
    else if (tag) for (const image of target ? [target] : images) perImage.get(image)?.push(tag);
  }
  if (problems.length > 0) throw new UserError(problems.map((problem) => inputProblem(input, problem)).join('\n'));
  const sets = images.map((image) => [...new Set(perImage.get(image))]);
  const first = sets[0] ?? [];
  for (const [i, tags] of sets.entries()) {
    const missing = first.filter((tag) => !tags.includes(tag));
    const extra = tags.filter((tag) => !first.includes(tag));
    if (missing.length + extra.length > 0) {
      throw new UserError(
        inputProblem(
          input,
          `every image must get the same tags, but ${images[i]} ${missing.length ? `lacks ${missing.join(', ')}` : `has ${extra.join(', ')} that ${images[0]} lacks`}; give bare tags to apply a tag to every image`,
        ),
      );
    }
  }
  return first;
}

/** Credentials given as inputs apply to one registry: refuse them when the images live on several. */
export function singleRegistryProblem(images: readonly string[]): string | undefined {
  const registries = [...new Set(images.map(registryOf))];
  if (registries.length <= 1) return undefined;
  return `credentials apply to one registry, but the images live on ${registries.length} (${registries.join(', ')}): log in to each with docker/login-action (or a REGISTRY_AUTH_FILE) and leave "username" and "password" empty`;
}
