import { annotationsOf, type Origin, originOf, sameCommit, sha256Digest, tagRef } from '@golden-image/oci';
import type { Skopeo } from './skopeo.js';

/** What push-layout does with one immutable tag, decided from what the registry holds there now. */
export type TagPlan =
  /** Nothing there: this build claims it. */
  | { tag: string; state: 'new' }
  /** Already this digest: a re-run of the same build. */
  | { tag: string; state: 'ours' }
  /** Another digest, moved because allow-overwrite is true. */
  | { tag: string; state: 'overwrite'; current: string }
  /** An earlier build of the same commit (its own annotations say so): the tag stays there, this build goes by digest. */
  | { tag: string; state: 'kept'; current: string; why: string }
  /** Another digest that is not shown to be a build of this commit: refused. */
  | { tag: string; state: 'taken'; current: string; why: string };

/**
 * Reads every tag once and decides what to do with it. An immutable tag never moves to another build: when it
 * already points at a build of the same commit (a re-run, a nightly rebuild: a new digest from new base images or
 * BuildKit's random provenance id) it is left where it is and this run carries on with its own digest; when the
 * image there is not shown to be a build of this commit, the tag is taken.
 */
export async function planTags(
  skopeo: Skopeo,
  image: string,
  digest: string,
  tags: readonly string[],
  options: { allowOverwrite: boolean; origin: Origin },
): Promise<TagPlan[]> {
  const raws = await Promise.all(tags.map((tag) => skopeo.rawManifest(tagRef(image, tag))));
  return tags.map((tag, i): TagPlan => {
    const raw = raws[i];
    if (raw === undefined) return { tag, state: 'new' };
    const current = sha256Digest(raw);
    if (current === digest) return { tag, state: 'ours' };
    if (options.allowOverwrite) return { tag, state: 'overwrite', current };
    const { same, why } = sameCommit(originOf(annotationsOf(raw)), options.origin);
    return same ? { tag, state: 'kept', current, why } : { tag, state: 'taken', current, why };
  });
}
