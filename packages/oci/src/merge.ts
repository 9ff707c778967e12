import { copyFile, link, lstat, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import { sha256Digest } from './digest.js';
import {
  type Descriptor,
  isRunnable,
  type Platform,
  type PlatformManifest,
  platformDigests,
  type VerifiedLayout,
  verifyLayout,
} from './layout.js';
import { INDEX_TYPES, MANIFEST_TYPES, OCI_INDEX } from './media-types.js';
import { hashFiles } from './merge-hash.js';

export interface MergeInput {
  /** The layout directory (for example a downloaded artifact of one platform's build). */
  path: string;
  /** The digest that build handed on; the layout must hold exactly this. */
  digest: string;
}

/** One manifest of the merged index and the input it came from. */
export interface MergedManifest extends PlatformManifest {
  /** 1-based position of the input in layout-paths. */
  input: number;
  inputPath: string;
}

export interface MergeResult {
  path: string;
  digest: string;
  /** `{"linux/amd64": "sha256:…"}`, attestations left out: the hand-off contract. */
  platforms: Record<string, string>;
  manifests: MergedManifest[];
  linked: number;
  copied: number;
}

export interface MergeOptions {
  /** Told once when blobs have to be copied because an input is on another filesystem. */
  log?: (message: string) => void;
}

const hex = (digest: string) => digest.slice('sha256:'.length);
const blobPath = (layout: string, digest: string) => join(layout, 'blobs', 'sha256', hex(digest));

/** What one verified input contributes: its index's children, and every blob they reach. */
interface InputContent {
  number: number;
  layout: VerifiedLayout;
  descriptors: Descriptor[];
  annotations: Record<string, string>;
  blobs: Map<string, number>;
  layers: string[];
}

/**
 * Merges verified OCI layouts (one or more platforms each) into a new layout at `dest` whose index lists every
 * platform manifest and attestation manifest of the inputs, their descriptors and blobs unchanged. Every input is
 * verified against its digest, every blob hashed, before anything is written. The index's bytes depend only on
 * the inputs' content, never on their order: platforms sorted, each attestation after the images, in the order
 * of the image it describes. Blobs are hard links into the inputs (copies across filesystems).
 */
export async function mergeLayouts(
  inputs: readonly MergeInput[],
  dest: string,
  options: MergeOptions = {},
): Promise<MergeResult> {
  await checkOrder(inputs);
  const contents: InputContent[] = [];
  for (const [i, input] of inputs.entries()) contents.push(await verifiedInput(input, i + 1));
  await hashLayers(contents);
  const { manifests, descriptors } = mergedManifests(contents);
  const annotations = mergedAnnotations(contents);

  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: descriptors,
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  const digest = sha256Digest(bytes);

  await mkdir(join(dest, 'blobs', 'sha256'), { recursive: true });
  const counts = await linkBlobs(contents, dest, options.log ?? (() => {}));
  await writeFile(blobPath(dest, digest), bytes);
  await writeFile(join(dest, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const top = { mediaType: OCI_INDEX, digest, size: bytes.length };
  await writeFile(
    join(dest, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [top] }),
  );

  // The merged layout is checked as every later step will check it.
  const merged = await verifyLayout(dest, digest);
  return { path: merged.path, digest, platforms: platformDigests(merged.manifests), manifests, ...counts };
}

/** The digest a layout's index.json points at when it lists exactly one entry; undefined otherwise or unreadable. */
async function pointedDigest(path: string): Promise<string | undefined> {
  try {
    // Only a small regular file is read here (a FIFO would block the read): verifyLayout refuses anything else.
    const info = await lstat(join(path, 'index.json'));
    if (!info.isFile() || info.size > 1 << 20) return undefined;
    const handle = await open(join(path, 'index.json'), 'r');
    try {
      const index = JSON.parse((await handle.readFile()).toString('utf8')) as { manifests?: { digest?: unknown }[] };
      const digest = index.manifests?.length === 1 ? index.manifests[0]?.digest : undefined;
      return typeof digest === 'string' ? digest : undefined;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * The digests hold exactly the layouts' digests, but not line for line (two lists built by different globs, or
 * in different shells): the order is what is wrong, not a digest, so say that before verifying anything.
 */
async function checkOrder(inputs: readonly MergeInput[]): Promise<void> {
  const pointed = await Promise.all(inputs.map((input) => pointedDigest(input.path)));
  if (pointed.some((digest) => digest === undefined)) return;
  const given = inputs.map((input) => input.digest);
  if (pointed.every((digest, i) => digest === given[i])) return;
  const sorted = (list: readonly (string | undefined)[]) => [...list].sort().join('\n');
  if (sorted(pointed) !== sorted(given)) return;
  const lines = pointed
    .map((digest, i) => [digest, i] as const)
    .filter(([digest, i]) => digest !== given[i])
    .map(
      ([digest, i]) =>
        `line ${i + 1} of layout-paths (${inputs[i]?.path}) holds ${digest}, which is line ${given.indexOf(digest as string) + 1} of digests`,
    );
  throw new UserError(
    `The digests are those of the layouts, but in another order than layout-paths: ${lines.join('; ')}. ` +
      'Give the digests in the order of layout-paths, line for line (list both with the same glob, for example ' +
      "printf '%s\\n' layouts/*/layout and cat layouts/*/digest). Nothing was merged.",
  );
}

function refuse(number: number, path: string, problem: string): never {
  throw new UserError(`Input ${number} (line ${number} of layout-paths and digests, ${path}): ${problem}`);
}

async function verifiedInput(input: MergeInput, number: number): Promise<InputContent> {
  let layout: VerifiedLayout;
  try {
    layout = await verifyLayout(input.path, input.digest);
  } catch (error) {
    if (error instanceof UserError) refuse(number, input.path, error.message);
    throw error;
  }
  const top = await readManifestBlob(layout.path, layout.digest, number);
  const blobs = new Map<string, number>();
  let descriptors: Descriptor[];
  let annotations: Record<string, string> = {};
  if (INDEX_TYPES.has(layout.mediaType)) {
    const index = JSON.parse(top.toString('utf8')) as { manifests: Descriptor[]; annotations?: Record<string, string> };
    descriptors = index.manifests;
    annotations = index.annotations ?? {};
  } else {
    descriptors = [{ mediaType: layout.mediaType, digest: layout.digest, size: top.length }];
  }
  const layers: string[] = [];
  for (const descriptor of descriptors) {
    if (!MANIFEST_TYPES.has(descriptor.mediaType)) {
      refuse(
        number,
        layout.path,
        `its index lists a ${descriptor.mediaType} (${descriptor.digest}); merge-layouts takes layouts whose index lists image and attestation manifests, as build-oci writes them.`,
      );
    }
    const body = JSON.parse((await readManifestBlob(layout.path, descriptor.digest, number)).toString('utf8')) as {
      config: Descriptor;
      layers?: Descriptor[];
    };
    blobs.set(descriptor.digest, descriptor.size);
    for (const blob of [body.config, ...(body.layers ?? [])]) {
      if (!blobs.has(blob.digest)) layers.push(blob.digest);
      blobs.set(blob.digest, blob.size);
    }
  }
  return { number, layout, descriptors, annotations, blobs, layers };
}

/** A manifest or index blob of a verified layout, read again and hashed again (it is what gets linked). */
async function readManifestBlob(layout: string, digest: string, number: number): Promise<Buffer> {
  const handle = await open(blobPath(layout, digest), 'r');
  try {
    const bytes = await handle.readFile();
    if (sha256Digest(bytes) !== digest)
      refuse(number, layout, `blobs/sha256/${hex(digest)} changed while it was read.`);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Layers and configs are hashed too: a downloaded artifact is where the trust of this job starts. */
async function hashLayers(contents: readonly InputContent[]): Promise<void> {
  const files = contents.flatMap((content) =>
    [...new Set(content.layers)].map((digest) => ({ content, digest, path: blobPath(content.layout.path, digest) })),
  );
  const digests = await hashFiles(files.map((file) => file.path));
  for (const [i, file] of files.entries()) {
    if (digests[i] !== file.digest) {
      refuse(
        file.content.number,
        file.content.layout.path,
        `blobs/sha256/${hex(file.digest)} does not hash to its name: the layout was changed after it was built. Nothing was merged.`,
      );
    }
  }
}

function mergedManifests(contents: readonly InputContent[]): {
  manifests: MergedManifest[];
  descriptors: Descriptor[];
} {
  const owner = new Map<string, { content: InputContent; digest: string }>();
  const images: { descriptor: Descriptor; manifest: MergedManifest }[] = [];
  const attestations: { descriptor: Descriptor; manifest: MergedManifest }[] = [];
  const placed = new Set<string>();
  for (const content of contents) {
    const byDigest = new Map(content.layout.manifests.map((manifest) => [manifest.digest, manifest]));
    for (const descriptor of content.descriptors) {
      const manifest = byDigest.get(descriptor.digest) as PlatformManifest;
      if (isRunnable(manifest)) {
        const other = owner.get(manifest.platform);
        if (other) {
          throw new UserError(
            `Inputs ${other.content.number} (${other.content.layout.path}) and ${content.number} (${content.layout.path}) both hold ${manifest.platform} ` +
              `(${other.digest} and ${manifest.digest}). Build each platform in exactly one job, and merge each build once.`,
          );
        }
        owner.set(manifest.platform, { content, digest: manifest.digest });
      }
      // The same attestation in two inputs is listed once.
      if (placed.has(descriptor.digest)) continue;
      placed.add(descriptor.digest);
      // An index entry for an image needs a platform: one the input left out is taken from the image's config.
      const entry = {
        descriptor:
          descriptor.platform || !isRunnable(manifest)
            ? descriptor
            : { ...descriptor, platform: platformObject(manifest.platform) },
        manifest: { ...manifest, input: content.number, inputPath: content.layout.path },
      };
      (isRunnable(manifest) ? images : attestations).push(entry);
    }
  }
  images.sort((a, b) => compare(a.manifest.platform, b.manifest.platform));
  const position = new Map(images.map((image, i) => [image.manifest.digest, i]));
  const rank = (subject: string | undefined) => position.get(subject ?? '') ?? images.length;
  attestations.sort(
    (a, b) => rank(a.manifest.subject) - rank(b.manifest.subject) || compare(a.manifest.digest, b.manifest.digest),
  );
  const ordered = [...images, ...attestations];
  return { manifests: ordered.map((entry) => entry.manifest), descriptors: ordered.map((entry) => entry.descriptor) };
}

function platformObject(platform: string): Platform {
  const [os = '', architecture = '', variant] = platform.split('/');
  return { os, architecture, ...(variant ? { variant } : {}) };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Index annotations the inputs agree on (builds of one commit with the same inputs), keys sorted. */
function mergedAnnotations(contents: readonly InputContent[]): Record<string, string> {
  const values = new Map<string, { value: string; number: number }>();
  for (const content of contents) {
    for (const [key, value] of Object.entries(content.annotations)) {
      const seen = values.get(key);
      if (seen && seen.value !== value) {
        throw new UserError(
          `Inputs ${seen.number} and ${content.number} disagree on the index annotation ${key} (${JSON.stringify(seen.value)} and ${JSON.stringify(value)}). ` +
            'Build every platform from the same commit with the same annotations.',
        );
      }
      values.set(key, { value, number: content.number });
    }
  }
  return Object.fromEntries([...values.keys()].sort(compare).map((key) => [key, values.get(key)?.value as string]));
}

async function linkBlobs(
  contents: readonly InputContent[],
  dest: string,
  log: (message: string) => void,
): Promise<{ linked: number; copied: number }> {
  const counts = { linked: 0, copied: 0 };
  const done = new Set<string>();
  let told = false;
  for (const content of contents) {
    for (const digest of content.blobs.keys()) {
      if (done.has(digest)) continue;
      done.add(digest);
      const from = blobPath(content.layout.path, digest);
      const to = blobPath(dest, digest);
      try {
        await link(from, to);
        counts.linked++;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw error;
        if (!told) {
          told = true;
          log(
            code === 'EXDEV'
              ? `${content.layout.path} is on another filesystem than ${dest}: its blobs are copied, not hard-linked.`
              : `Blobs of ${content.layout.path} cannot be hard-linked here (${code}): they are copied.`,
          );
        }
        await copyFile(from, to);
        counts.copied++;
      }
    }
  }
  return counts;
}
