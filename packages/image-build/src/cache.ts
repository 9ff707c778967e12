import { createHash } from 'node:crypto';
import { basename, relative } from 'node:path';

/**
 * The default GitHub Actions cache scope: one per image and set of platforms, so two images built in one repository
 * do not overwrite each other's cache index (buildx's default scope, `buildkit`, is shared), and neither do the
 * jobs of a matrix that builds one platform each on its own runner. Derived from the context, the Dockerfile, the
 * target and the platforms, relative to the workspace so it is stable across runners.
 */
export function defaultCacheScope(
  context: string,
  file: string | undefined,
  target: string | undefined,
  workspace: string,
  platforms: readonly string[] = [],
): string {
  const key = [
    relative(workspace, context) || '.',
    file ? relative(workspace, file) : '',
    target ?? '',
    ...(platforms.length > 0 ? [[...platforms].sort().join(',')] : []),
  ].join('\0');
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  const slug = (basename(context) || 'root')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .slice(0, 40);
  return `build-oci-${slug}-${hash}`;
}

export function defaultCache(scope: string): { from: string[]; to: string[] } {
  return { from: [`type=gha,scope=${scope}`], to: [`type=gha,scope=${scope},mode=max`] };
}
