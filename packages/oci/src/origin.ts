import { show } from '@golden-image/kit';

/** The OCI annotations that say which commit of which repository an image was built from. */
export const REVISION = 'org.opencontainers.image.revision';
export const SOURCE = 'org.opencontainers.image.source';

export interface Origin {
  revision?: string;
  source?: string;
}

export function originOf(annotations: Record<string, string> | undefined): Origin {
  return { revision: annotations?.[REVISION] || undefined, source: annotations?.[SOURCE] || undefined };
}

/** The top-level annotations of a raw manifest or index (what `skopeo inspect --raw` prints). */
export function annotationsOf(raw: Buffer | string): Record<string, string> {
  try {
    const value = JSON.parse(raw.toString()) as { annotations?: unknown };
    const annotations = value?.annotations;
    if (!annotations || typeof annotations !== 'object' || Array.isArray(annotations)) return {};
    return Object.fromEntries(
      Object.entries(annotations).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  } catch {
    return {};
  }
}

/**
 * Whether two images are builds of the same commit of the same repository, from their own annotations only: both
 * must carry a revision and a source, and both must be equal. Anything less is "not shown", never guessed.
 */
export function sameCommit(existing: Origin, ours: Origin): { same: boolean; why: string } {
  if (!ours.revision || !ours.source)
    return {
      same: false,
      why: `this build carries no ${!ours.revision ? REVISION : SOURCE} annotation, so it cannot be shown to be a build of the same commit (build-oci sets both on GitHub runners)`,
    };
  if (!existing.revision || !existing.source)
    return {
      same: false,
      why: `the image there carries no ${!existing.revision ? REVISION : SOURCE} annotation, so it cannot be shown to be a build of the same commit`,
    };
  if (existing.source !== ours.source)
    return { same: false, why: `it was built from ${show(existing.source)}, this build from ${show(ours.source)}` };
  if (existing.revision !== ours.revision)
    return { same: false, why: `it is a build of commit ${existing.revision}, this one of ${ours.revision}` };
  return { same: true, why: `both are builds of ${ours.source} at ${ours.revision}` };
}
