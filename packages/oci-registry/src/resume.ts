import { annotationsOf, type Origin, originOf, sameCommit, sha256Digest, tagRef } from '@golden-image/oci';
import type { Skopeo } from './skopeo.js';

export interface ResumeDecision {
  /** The digest to sign and promote without building again; undefined to build. */
  digest?: string;
  /** Why, for the log and the summary. */
  reason: string;
}

/**
 * On a re-run attempt of a workflow run: the release an earlier attempt pushed and did not finish (it failed at
 * signing or promotion), so the re-run signs and promotes those bytes instead of pushing a new build. Shown from the
 * registry and the images' own annotations only:
 * - every image's first immutable tag points at one digest, whose revision and source annotations are this commit's;
 * - it is not finished (some rolling tag does not point at it yet);
 * - no rolling tag points at another build of this commit (that one was released later: resuming would go back).
 * Anything else builds again, and the reason says why.
 */
export async function resumableRelease(
  skopeo: Skopeo,
  images: readonly string[],
  immutableTag: string,
  rollingTags: readonly string[],
  origin: Origin,
): Promise<ResumeDecision> {
  if (!origin.revision || !origin.source)
    return { reason: 'this run has no commit and repository to compare with (GITHUB_SHA, GITHUB_REPOSITORY)' };
  const refs = images.map((image) => tagRef(image, immutableTag));
  const raws = await Promise.all(refs.map((ref) => skopeo.rawManifest(ref)));
  const missing = refs.filter((_, i) => raws[i] === undefined);
  if (missing.length > 0) return { reason: `${missing.join(', ')} does not exist: nothing was pushed before` };
  const digests = [...new Set(raws.map((raw) => sha256Digest(raw as Buffer)))];
  if (digests.length > 1)
    return { reason: `${refs.join(', ')} point at different digests (${digests.join(', ')}): building again` };
  const digest = digests[0] as string;
  const evidence = sameCommit(originOf(annotationsOf(raws[0] as Buffer)), origin);
  if (!evidence.same) return { reason: `${refs[0]} points at ${digest}, but ${evidence.why}` };

  const rolling = images.flatMap((image) => rollingTags.map((tag) => tagRef(image, tag)));
  const rollingRaws = await Promise.all(rolling.map((ref) => skopeo.rawManifest(ref)));
  let finished = true;
  for (const [i, ref] of rolling.entries()) {
    const raw = rollingRaws[i];
    const current = raw === undefined ? undefined : sha256Digest(raw);
    if (current === digest) continue;
    finished = false;
    if (raw !== undefined && sameCommit(originOf(annotationsOf(raw)), origin).same)
      return {
        reason: `${ref} already points at ${current}, another build of this commit released after ${digest}: building again rather than going back`,
      };
  }
  if (finished)
    return { reason: `every rolling tag already points at ${digest}: that release is finished, building again` };
  return {
    digest,
    reason: `${refs.join(', ')} point at ${digest}, a build of ${origin.source} at ${origin.revision} that an earlier attempt pushed and did not promote everywhere`,
  };
}
