// Hostile OCI layouts: links out of the layout, a descriptor digest that walks up the tree, huge (sparse) files,
// deep and wide index graphs. Each is small on disk.

import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { OCI_INDEX, OCI_MANIFEST, sha256Digest } from '@golden-image/oci';
import { buildLayout, tempDir } from '@golden-image/testkit';
import { sparseFile } from './harness.js';

export interface HostileLayout {
  path: string;
  digest: string;
}

export type HostileLayouts = Record<
  | 'symlinkBlob'
  | 'symlinkDir'
  | 'symlinkIndex'
  | 'traversalDigest'
  | 'hugeIndex'
  | 'hugeBlob'
  | 'nested'
  | 'wide'
  | 'fifoBlob'
  | 'fifoIndex'
  | 'hugeMarker'
  | 'unsafeSize'
  | 'lyingSize'
  | 'jsonBomb',
  HostileLayout
>;

const MiB = 1024 * 1024;

function emptyLayout(): string {
  const dir = tempDir('golden-image-hostile-');
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return dir;
}

/** Writes a blob and returns its descriptor. */
function blob(dir: string, mediaType: string, value: unknown): { mediaType: string; digest: string; size: number } {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = sha256Digest(bytes);
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.length };
}

function pointAt(dir: string, descriptor: { mediaType: string; digest: string; size: number }): HostileLayout {
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor] }),
  );
  return { path: dir, digest: descriptor.digest };
}

const index = (manifests: unknown[]) => ({ schemaVersion: 2, mediaType: OCI_INDEX, manifests });

async function realLayout(): Promise<HostileLayout> {
  const path = tempDir('golden-image-hostile-real-');
  const built = await buildLayout(path, { platforms: ['linux/amd64'], attestations: false });
  return { path, digest: built.digest };
}

/** The largest blob: a layer. */
function largestBlob(path: string): string {
  const blobs = join(path, 'blobs', 'sha256');
  const names = readdirSync(blobs).sort(
    (a, b) => readFileSync(join(blobs, b)).length - readFileSync(join(blobs, a)).length,
  );
  return join(blobs, names[0] ?? '');
}

export async function hostileLayouts(): Promise<HostileLayouts> {
  const outside = tempDir('golden-image-hostile-outside-');

  // A layer replaced by a link to an identical file outside the layout: same bytes, still refused.
  const symlinkBlob = await realLayout();
  const layer = largestBlob(symlinkBlob.path);
  copyFileSync(layer, join(outside, 'layer'));
  unlinkSync(layer);
  symlinkSync(join(outside, 'layer'), layer);

  // blobs/sha256 itself a link to a directory outside.
  const symlinkDir = await realLayout();
  renameSync(join(symlinkDir.path, 'blobs', 'sha256'), join(outside, 'sha256'));
  symlinkSync(join(outside, 'sha256'), join(symlinkDir.path, 'blobs', 'sha256'));

  // index.json a link to a file outside.
  const symlinkIndex = await realLayout();
  renameSync(join(symlinkIndex.path, 'index.json'), join(outside, 'index.json'));
  symlinkSync(join(outside, 'index.json'), join(symlinkIndex.path, 'index.json'));

  // A descriptor whose "digest" walks out of blobs/.
  const traversal = emptyLayout();
  const traversalDigest = pointAt(traversal, {
    mediaType: OCI_MANIFEST,
    digest: 'sha256:../../../../../../etc/passwd',
    size: 10,
  });

  // index.json of 300 MiB, sparse.
  const huge = emptyLayout();
  sparseFile(huge, 'index.json', 300 * MiB);
  const hugeIndex = { path: huge, digest: sha256Digest('huge') };

  // A top-level index blob of 200 MiB, sparse, its descriptor honest about the size.
  const hugeBlobDir = emptyLayout();
  const hugeBlobDigest = sha256Digest('a blob too big to read');
  sparseFile(join(hugeBlobDir, 'blobs', 'sha256'), hugeBlobDigest.slice(7), 200 * MiB);
  const hugeBlob = pointAt(hugeBlobDir, { mediaType: OCI_INDEX, digest: hugeBlobDigest, size: 200 * MiB });

  // Indexes nested 8 deep.
  const nestedDir = emptyLayout();
  let inner = blob(nestedDir, OCI_INDEX, index([]));
  for (let i = 0; i < 8; i++) inner = blob(nestedDir, OCI_INDEX, index([inner]));
  const nested = pointAt(nestedDir, inner);

  // One index of 20,000 descriptors (about 2.7 MB, under the 4 MiB blob limit).
  const wideDir = emptyLayout();
  const fake = { mediaType: OCI_MANIFEST, digest: sha256Digest('absent'), size: 1 };
  const wide = pointAt(wideDir, blob(wideDir, OCI_INDEX, index(Array.from({ length: 20_000 }, () => fake))));

  // A layer that is a FIFO: a naive reader would block forever on it.
  const fifoBlob = await realLayout();
  const fifoLayer = largestBlob(fifoBlob.path);
  unlinkSync(fifoLayer);
  execFileSync('mkfifo', [fifoLayer]);

  // index.json itself a FIFO.
  const fifoIndexDir = emptyLayout();
  execFileSync('mkfifo', [join(fifoIndexDir, 'index.json')]);
  const fifoIndex = { path: fifoIndexDir, digest: sha256Digest('fifo') };

  // oci-layout of 1 GiB, sparse.
  const hugeMarkerDir = emptyLayout();
  sparseFile(hugeMarkerDir, 'oci-layout', 1024 * MiB);
  const hugeMarker = { path: hugeMarkerDir, digest: sha256Digest('marker') };

  // A descriptor size beyond 2^53.
  const unsafeDir = emptyLayout();
  const unsafeSize = pointAt(unsafeDir, { mediaType: OCI_INDEX, digest: sha256Digest('unsafe'), size: 2 ** 60 });

  // A manifest blob whose descriptor says 300 bytes while the file is 2 GiB (sparse).
  const lyingDir = emptyLayout();
  const lyingDigest = sha256Digest('lying');
  sparseFile(join(lyingDir, 'blobs', 'sha256'), lyingDigest.slice(7), 2048 * MiB);
  const lyingSize = pointAt(lyingDir, { mediaType: OCI_INDEX, digest: lyingDigest, size: 300 });

  // index.json of 1.5 million nested arrays (just under the 4 MiB limit).
  const bombDir = emptyLayout();
  writeFileSync(join(bombDir, 'index.json'), `${'['.repeat(1_500_000)}${']'.repeat(1_500_000)}`);
  const jsonBomb = { path: bombDir, digest: sha256Digest('bomb') };

  return {
    symlinkBlob,
    symlinkDir,
    symlinkIndex,
    traversalDigest,
    hugeIndex,
    hugeBlob,
    nested,
    wide,
    fifoBlob,
    fifoIndex,
    hugeMarker,
    unsafeSize,
    lyingSize,
    jsonBomb,
  };
}
