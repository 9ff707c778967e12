import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root and the unedited third-party outputs the tests replay (test/fixtures/third-party, see its SOURCES.md). */
export const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
export const thirdParty = (...parts: string[]) => join(repoRoot, 'test', 'fixtures', 'third-party', ...parts);

export function tempDir(prefix = 'golden-image-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Untars the real buildx multi-platform layout (two platforms, two provenance attestations) into a fresh directory. */
export function untarBuildxLayout(): { path: string; digest: string } {
  const path = tempDir('golden-image-buildx-layout-');
  execFileSync('tar', ['-xf', thirdParty('buildx', 'oci-layout-multiplatform-attestations.tar'), '-C', path]);
  const index = JSON.parse(readFileSync(join(path, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  return { path, digest: index.manifests[0]?.digest ?? '' };
}
