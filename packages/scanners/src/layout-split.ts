import { copyFile, link, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OCI_INDEX, type PlatformManifest } from '@golden-image/oci';

/**
 * Writes a layout at `dir` whose index.json names only `manifest` (Trivy reads just the first platform of a
 * layout). Blobs are hard links into the verified layout (copies when it sits on another device).
 */
export async function singlePlatformLayout(
  layoutPath: string,
  manifest: PlatformManifest,
  dir: string,
): Promise<string> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const hex = (digest: string) => digest.slice('sha256:'.length);
  const source = (digest: string) => join(layoutPath, 'blobs', 'sha256', hex(digest));
  const body = JSON.parse(await readFile(source(manifest.digest), 'utf8')) as {
    config?: { digest: string };
    layers?: { digest: string }[];
  };
  const digests = new Set([
    manifest.digest,
    ...(body.config ? [body.config.digest] : []),
    ...(body.layers ?? []).map((l) => l.digest),
  ]);
  for (const digest of digests) await linkOrCopy(source(digest), join(blobs, hex(digest)));
  const [os, architecture, variant] = manifest.platform.split('/');
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: (await stat(source(manifest.digest))).size,
        platform: { os, architecture, ...(variant ? { variant } : {}) },
      },
    ],
  };
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  return dir;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK') await copyFile(from, to);
    else throw error;
  }
}
