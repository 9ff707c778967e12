import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VerifiedLayout } from './layout.js';
import { OCI_INDEX } from './media-types.js';

/**
 * A directory that shows a registry client exactly one image of a layout whose index.json lists several entries
 * (two names for one image, as umoci and repeated skopeo copies write; skopeo 1.9 refuses those with "more than one
 * image in oci, choose an image"): its own oci-layout and an index.json with the verified entry only, the layout's
 * blobs linked in, nothing copied. A layout with one entry is returned as it is.
 */
export async function singleImageView(
  layout: VerifiedLayout,
  tempDir: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  if (layout.entries <= 1) return { path: layout.path, remove: async () => {} };
  const path = await mkdtemp(join(tempDir, 'golden-image-view-'));
  await writeFile(join(path, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const entry = { mediaType: layout.mediaType, digest: layout.digest, size: layout.size };
  await writeFile(
    join(path, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] }),
  );
  await symlink(join(layout.path, 'blobs'), join(path, 'blobs'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
