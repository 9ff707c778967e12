import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { show, UserError } from '@golden-image/kit';

/**
 * The directory a build writes its layout into. buildx and buildah ADD to an existing index.json, so a layout
 * built into a used directory would name two images: only an absent or empty directory is accepted.
 */
export async function prepareLayoutDir(requested: string | undefined, tempDir: string): Promise<string> {
  if (requested === undefined) {
    await mkdir(tempDir, { recursive: true });
    return mkdtemp(join(tempDir, 'golden-image-layout-'));
  }
  const path = resolve(requested);
  if (path.includes(':')) {
    throw new UserError(
      `Input "layout-path": ${show(requested)} contains ":"; oci: transports cut the path at the first ":". Use a path without one.`,
    );
  }
  const entries = await readdir(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    if (error.code === 'ENOTDIR')
      throw new UserError(`Input "layout-path": ${show(requested)} is a file, not a directory.`);
    throw error;
  });
  if (entries && entries.length > 0) {
    throw new UserError(
      `Input "layout-path": ${show(requested)} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}). ` +
        'buildx and buildah add to an existing index.json, so the layout would name more than one image: give a new or empty directory, or leave layout-path unset for a fresh one under RUNNER_TEMP.',
    );
  }
  await mkdir(path, { recursive: true });
  return path;
}
