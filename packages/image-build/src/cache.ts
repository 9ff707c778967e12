import { createHash } from 'node:crypto';
import { basename, relative } from 'node:path';

/**
 * The default GitHub Actions cache scope: one per image, so two images built in one repository do not overwrite
 * each other's cache index (buildx's default scope, `buildkit`, is shared). Derived from the context, the
 * Dockerfile and the target, relative to the workspace so it is stable across runners.
 */
export function defaultCacheScope(
  context: string,
  file: string | undefined,
  target: string | undefined,
  workspace: string,
): string {
  const key = [relative(workspace, context) || '.', file ? relative(workspace, file) : '', target ?? ''].join('\0');
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
