import { REVISION, SOURCE } from '@golden-image/oci';
import { parseAnnotationEntry } from './annotations.js';

/** The commit and repository a build on a GitHub runner comes from; empty off a runner. */
export function buildOrigin(env: NodeJS.ProcessEnv): { revision?: string; source?: string } {
  const revision = env.GITHUB_SHA && /^[0-9a-f]{40}$/.test(env.GITHUB_SHA) ? env.GITHUB_SHA : undefined;
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const source = env.GITHUB_REPOSITORY ? `${server}/${env.GITHUB_REPOSITORY}` : undefined;
  return { revision, source };
}

type Level = 'manifest' | 'index';

/**
 * Annotations (buildx syntax) that put org.opencontainers.image.revision and .source on every manifest, and on the
 * index when the build writes one: the evidence push-layout reads to tell a rebuild of the same commit from another
 * commit. A value the caller already gives (docker/metadata-action's annotations carry both) is used for every
 * level, and a level the caller already covers is left alone.
 */
export function originAnnotations(
  origin: { revision?: string; source?: string },
  annotations: readonly string[],
  levels: readonly Level[],
): string[] {
  const given = annotations.map(parseAnnotationEntry).map((annotation) => ({
    ...annotation,
    kinds: annotation.targets.map((target) => target.kind as string),
  }));
  const added: string[] = [];
  for (const [key, fallback] of [
    [REVISION, origin.revision],
    [SOURCE, origin.source],
  ] as const) {
    const mine = given.filter((annotation) => annotation.key === key);
    const value = mine[0]?.value ?? fallback;
    if (!value) continue;
    for (const level of levels)
      if (!mine.some((annotation) => annotation.kinds.includes(level))) added.push(`${level}:${key}=${value}`);
  }
  return added;
}
