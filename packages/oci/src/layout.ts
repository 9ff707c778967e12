import { constants } from 'node:fs';
import { access, lstat, open, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { show, UserError } from '@golden-image/kit';
import { digestProblem, sha256Digest } from './digest.js';
import {
  ATTESTATION_MANIFEST,
  ATTESTATION_REFERENCE_TYPE,
  ATTESTATION_SUBJECT,
  IMAGE_CONFIG_TYPES,
  INDEX_TYPES,
  MANIFEST_TYPES,
} from './media-types.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** One image manifest reached from the top of the layout. */
export interface PlatformManifest {
  /** `os/architecture[/variant]`, or `unknown/unknown` for attestations. */
  platform: string;
  digest: string;
  mediaType: string;
  /** A BuildKit attestation manifest (provenance, SBOM), not a runnable image. */
  attestation: boolean;
  /**
   * An OCI artifact (an `artifactType`, or a config that is not an image config: an SBOM, a signature, a Helm
   * chart), not a runnable image. Left out of `platforms` like attestations.
   */
  artifact?: boolean;
  /** For an attestation: the digest of the image manifest it describes. */
  subject?: string;
}

export interface VerifiedLayout {
  /** Absolute, symlink-free path of the layout directory. */
  path: string;
  /** Digest of the top-level manifest or index that index.json points at. */
  digest: string;
  mediaType: string;
  /** Size in bytes of that top-level manifest or index. */
  size: number;
  manifests: PlatformManifest[];
  blobCount: number;
  /** Bytes of every blob reached (layers included), each counted once. */
  totalBytes: number;
  /** How layers were checked: `size` (present, readable, of the described size) or `digest` (hashed too). */
  layers: 'size' | 'digest';
  /** Entries in index.json (several when tools such as umoci or repeated skopeo copies name one image twice). */
  entries: number;
  /** Annotations of the top-level index or manifest (org.opencontainers.image.revision and .source among them). */
  annotations: Record<string, string>;
  /**
   * OCI 1.1 fields found in indexes (`artifactType` on an entry, `artifactType` or `subject` on an index), which a
   * registry client built with an older image-spec drops, changing the index's digest.
   */
  oci11Fields: string[];
}

export interface VerifyOptions {
  /** `size` (default) checks layers by size; `digest` hashes every layer too. */
  layers?: 'size' | 'digest';
}

/** Bounds that keep a hostile layout from exhausting memory or recursion. */
export const LIMITS = {
  indexJsonBytes: 4 * 1024 * 1024,
  manifestBytes: 4 * 1024 * 1024,
  configBytes: 8 * 1024 * 1024,
  nestingDepth: 4,
  descriptors: 10_000,
};

/**
 * Verifies an OCI layout directory before anything is done with it: `oci-layout` and `index.json` are valid;
 * index.json names exactly one top-level digest, or, when `expectedDigest` is given, an entry with that digest (the
 * image the caller means; others are left alone); every index, manifest and config blob reached exists, is a
 * regular file inside the layout, is readable and hashes to its name; every layer exists, is readable and has the
 * size its descriptor gives (and is hashed too with `layers: 'digest'`). Throws a UserError naming the first problem.
 */
export async function verifyLayout(
  dir: string,
  expectedDigest?: string,
  options: VerifyOptions = {},
): Promise<VerifiedLayout> {
  const path = await layoutRoot(dir);
  const layers = options.layers ?? 'size';
  const layout = new LayoutReader(path, layers);
  const { top, entries } = await layout.topDescriptor(expectedDigest);
  const manifests: PlatformManifest[] = [];
  await layout.walk(top, 0, manifests);
  return {
    path,
    digest: top.digest,
    mediaType: top.mediaType,
    size: top.size,
    manifests,
    blobCount: layout.seen.size,
    totalBytes: layout.totalBytes,
    layers,
    entries,
    annotations: layout.topAnnotations,
    oci11Fields: layout.oci11Fields,
  };
}

/** One line saying what verifyLayout checked, for logs and summaries (never more than was checked). */
export function describeVerification(layout: VerifiedLayout): string {
  const what =
    layout.layers === 'digest'
      ? 'every blob is present, readable and hashes to its name'
      : 'every index, manifest and config hashes to its name; layers are present, readable and of the described size (not hashed here: build-oci hashed them)';
  return `${layout.path} holds ${layout.digest}: ${layout.blobCount} blobs, ${layout.totalBytes} bytes; ${what}.`;
}

/** Is this manifest a runnable image (not an attestation, not an artifact)? */
export function isRunnable(manifest: PlatformManifest): boolean {
  return !manifest.attestation && !manifest.artifact;
}

/** The runnable platforms of a verified layout: `{"linux/amd64": "sha256:…"}`, attestations left out. */
export function platformDigests(manifests: readonly PlatformManifest[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const manifest of manifests) {
    if (isRunnable(manifest)) result[manifest.platform] = manifest.digest;
  }
  return result;
}

const PLATFORM_FIELD = /^[a-z0-9._-]{1,64}$/;

/** `os/architecture[/variant]`; fields are checked, since a platform is printed in logs and summaries. */
export function formatPlatform(platform: Platform): string {
  const fields = [platform.os, platform.architecture, platform.variant].filter(
    (field) => field !== undefined && field !== '',
  );
  for (const field of fields) {
    if (typeof field !== 'string' || !PLATFORM_FIELD.test(field)) {
      throw new UserError(
        `A platform in the layout has the field ${show(String(field))}; platform fields are lowercase letters, digits, ".", "_" and "-".`,
      );
    }
  }
  return fields.join('/');
}

async function layoutRoot(dir: string): Promise<string> {
  if (dir.includes(':')) {
    throw new UserError(
      `Layout path ${show(dir)} contains ":"; skopeo and trivy cut OCI paths at the first ":". Use a path without one.`,
    );
  }
  let path: string;
  try {
    path = await realpath(dir);
  } catch (error) {
    throw (
      unreadable(error, dir) ??
      new UserError(`Layout directory ${show(dir)} does not exist. Pass the layout-path output of build-oci.`)
    );
  }
  const marker = await readSmallFile(
    path,
    'oci-layout',
    4096,
    `${path} is not an OCI layout: it has no oci-layout file`,
  );
  const version = parseJson(marker, `${path}/oci-layout`) as { imageLayoutVersion?: unknown };
  if (version.imageLayoutVersion !== '1.0.0') {
    throw new UserError(
      `${path}/oci-layout has imageLayoutVersion ${show(String(version.imageLayoutVersion))}; expected "1.0.0".`,
    );
  }
  return path;
}

class LayoutReader {
  readonly seen = new Set<string>();
  /** Indexes already walked: one listed many times is read, hashed and descended once. */
  private readonly walked = new Set<string>();
  totalBytes = 0;
  topAnnotations: Record<string, string> = {};
  readonly oci11Fields: string[] = [];
  private descriptorCount = 0;

  constructor(
    private readonly root: string,
    private readonly layers: 'size' | 'digest',
  ) {}

  async topDescriptor(expectedDigest?: string): Promise<{ top: Descriptor; entries: number }> {
    const bytes = await readSmallFile(this.root, 'index.json', LIMITS.indexJsonBytes, `${this.root} has no index.json`);
    const index = parseJson(bytes, `${this.root}/index.json`) as { manifests?: unknown };
    if (!Array.isArray(index.manifests) || index.manifests.length === 0) {
      throw new UserError(`${this.root}/index.json lists no manifests: the layout is empty.`);
    }
    const descriptors = index.manifests.map((entry, i) => this.descriptor(entry, `index.json manifests[${i}]`));
    const digests = [...new Set(descriptors.map((d) => d.digest))];
    const top = descriptors.find((d) => d.digest === (expectedDigest ?? d.digest)) as Descriptor | undefined;
    if (!top) {
      const held = digests.length === 1 ? `points at ${digests[0]}` : `lists ${digests.join(', ')}`;
      throw new UserError(
        `The layout at ${this.root} does not hold the expected image: index.json ${held}, but the "digest" input is ${expectedDigest}. ` +
          'Pass the digest output of the step that built this layout, and build into a fresh directory.',
      );
    }
    if (expectedDigest === undefined && digests.length > 1) {
      throw new UserError(
        `${this.root}/index.json points at ${digests.length} different images (${digests.join(', ')}). ` +
          'buildx and buildah add to an existing layout: build into a fresh, empty directory.',
      );
    }
    if (!INDEX_TYPES.has(top.mediaType) && !MANIFEST_TYPES.has(top.mediaType)) {
      throw new UserError(
        `${this.root}/index.json points at a ${show(top.mediaType)}, which is neither an image index nor an image manifest.`,
      );
    }
    return { top, entries: descriptors.length };
  }

  async walk(descriptor: Descriptor, depth: number, out: PlatformManifest[]): Promise<void> {
    if (depth > LIMITS.nestingDepth) {
      throw new UserError(
        `${this.root}: indexes are nested more than ${LIMITS.nestingDepth} deep; refusing the layout.`,
      );
    }
    if (INDEX_TYPES.has(descriptor.mediaType)) {
      if (this.walked.has(descriptor.digest)) return;
      this.walked.add(descriptor.digest);
      const index = (await this.readJsonBlob(descriptor, LIMITS.manifestBytes)) as {
        manifests?: unknown;
        annotations?: Record<string, string>;
        artifactType?: unknown;
        subject?: unknown;
      };
      if (!Array.isArray(index.manifests))
        throw new UserError(`${this.blobName(descriptor)}: image index has no manifests list.`);
      if (depth === 0) this.topAnnotations = stringRecord(index.annotations);
      if (index.artifactType !== undefined) this.oci11Fields.push(`index ${descriptor.digest} has artifactType`);
      if (index.subject !== undefined) this.oci11Fields.push(`index ${descriptor.digest} has subject`);
      const children = index.manifests.map((entry, i) =>
        this.descriptor(entry, `${descriptor.digest} manifests[${i}]`),
      );
      for (const [i, child] of children.entries()) {
        if (child.artifactType !== undefined)
          this.oci11Fields.push(
            `index ${descriptor.digest} manifests[${i}] has artifactType ${show(String(child.artifactType))}`,
          );
      }
      for (const child of children) await this.walk(child, depth + 1, out);
      return;
    }
    if (MANIFEST_TYPES.has(descriptor.mediaType)) {
      const manifest = (await this.readJsonBlob(descriptor, LIMITS.manifestBytes)) as {
        config?: unknown;
        layers?: unknown;
        annotations?: Record<string, string>;
        artifactType?: unknown;
      };
      if (depth === 0) this.topAnnotations = stringRecord(manifest.annotations);
      const config = this.descriptor(manifest.config, `${descriptor.digest} config`);
      const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
      const configBytes = await this.readBlob(config, LIMITS.configBytes);
      for (const [i, layer] of layers.entries())
        await this.checkLayer(this.descriptor(layer, `${descriptor.digest} layers[${i}]`));
      const artifact =
        descriptor.artifactType !== undefined ||
        manifest.artifactType !== undefined ||
        !IMAGE_CONFIG_TYPES.has(config.mediaType);
      out.push(this.platformManifest(descriptor, configBytes, artifact));
      return;
    }
    // Other artifacts (signatures, SBOM blobs referenced from an index) are checked by size only.
    await this.checkLayer(descriptor);
  }

  private platformManifest(descriptor: Descriptor, configBytes: Buffer, artifact: boolean): PlatformManifest {
    const annotations = descriptor.annotations ?? {};
    const attestation =
      annotations[ATTESTATION_REFERENCE_TYPE] === ATTESTATION_MANIFEST ||
      (descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown');
    let platform = descriptor.platform ? formatPlatform(descriptor.platform) : undefined;
    if (!platform && artifact) platform = 'unknown/unknown';
    if (!platform) {
      const config = safeJson(configBytes) as Partial<Platform> | undefined;
      platform = config?.os && config.architecture ? formatPlatform(config as Platform) : 'unknown/unknown';
    }
    const result: PlatformManifest = {
      platform,
      digest: descriptor.digest,
      mediaType: descriptor.mediaType,
      attestation,
    };
    if (attestation && annotations[ATTESTATION_SUBJECT]) result.subject = annotations[ATTESTATION_SUBJECT];
    if (artifact && !attestation) result.artifact = true;
    return result;
  }

  private descriptor(value: unknown, where: string): Descriptor {
    if (++this.descriptorCount > LIMITS.descriptors) {
      throw new UserError(`${this.root}: more than ${LIMITS.descriptors} descriptors; refusing the layout.`);
    }
    const d = value as Partial<Descriptor> | null;
    if (!d || typeof d !== 'object') throw new UserError(`${this.root}: ${where} is not a descriptor object.`);
    if (typeof d.mediaType !== 'string') throw new UserError(`${this.root}: ${where} has no mediaType.`);
    const problem = typeof d.digest === 'string' ? digestProblem(d.digest) : 'is missing';
    if (problem) throw new UserError(`${this.root}: ${where} digest ${problem}.`);
    if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
      throw new UserError(`${this.root}: ${where} has no valid size.`);
    }
    return d as Descriptor;
  }

  private blobName(descriptor: Descriptor): string {
    return `blobs/sha256/${descriptor.digest.slice('sha256:'.length)}`;
  }

  /** The blob's path after checking it is a regular file of the described size (never a link out of the layout). */
  private async blobPath(descriptor: Descriptor): Promise<string> {
    const name = this.blobName(descriptor);
    const path = join(this.root, name);
    for (const part of ['blobs', 'blobs/sha256', name]) {
      const info = await lstat(join(this.root, part)).catch((error: unknown) => {
        const problem = unreadable(error, join(this.root, part));
        if (problem) throw problem;
        return undefined;
      });
      if (!info)
        throw new UserError(
          `${this.root}: ${part} is missing (needed by ${descriptor.mediaType} ${descriptor.digest}). The layout is incomplete.`,
        );
      if (info.isSymbolicLink())
        throw new UserError(`${this.root}: ${part} is a symbolic link; blobs must be regular files inside the layout.`);
      if (part === name) {
        if (!info.isFile()) throw new UserError(`${this.root}: ${name} is not a regular file.`);
        if (info.size !== descriptor.size) {
          throw new UserError(
            `${this.root}: ${name} is ${info.size} bytes, but its descriptor says ${descriptor.size}. The blob is truncated or was changed.`,
          );
        }
      }
    }
    if (!this.seen.has(descriptor.digest)) {
      // skopeo reads every blob as this same user: a file it cannot open must fail here, not halfway through a push.
      await access(path, constants.R_OK).catch((error: unknown) => {
        throw unreadable(error, path) ?? error;
      });
      this.seen.add(descriptor.digest);
      this.totalBytes += descriptor.size;
    }
    return path;
  }

  private async readBlob(descriptor: Descriptor, limit: number): Promise<Buffer> {
    if (descriptor.size > limit) {
      throw new UserError(
        `${this.root}: ${this.blobName(descriptor)} is ${descriptor.size} bytes; manifests and configs are limited to ${limit}.`,
      );
    }
    const path = await this.blobPath(descriptor);
    const bytes = await readLimited(path, descriptor.size);
    if (sha256Digest(bytes) !== descriptor.digest) {
      throw new UserError(
        `${this.root}: ${this.blobName(descriptor)} does not hash to its name: the blob was changed after the build.`,
      );
    }
    return bytes;
  }

  private async readJsonBlob(descriptor: Descriptor, limit: number): Promise<unknown> {
    return parseJson(await this.readBlob(descriptor, limit), `${this.root}/${this.blobName(descriptor)}`);
  }

  private async checkLayer(descriptor: Descriptor): Promise<void> {
    const path = await this.blobPath(descriptor);
    if (this.layers === 'digest') {
      const { sha256File } = await import('./digest.js');
      const digest = await sha256File(path).catch((error: unknown) => {
        throw unreadable(error, path) ?? error;
      });
      if (digest !== descriptor.digest) {
        throw new UserError(
          `${this.root}: ${this.blobName(descriptor)} does not hash to its name: the blob was changed after the build.`,
        );
      }
    }
  }
}

async function readSmallFile(root: string, name: string, limit: number, missing: string): Promise<Buffer> {
  const path = join(root, name);
  const info = await lstat(path).catch((error: unknown) => {
    // An unreadable directory is not a directory without the file.
    const problem = unreadable(error, root);
    if (problem) throw problem;
    return undefined;
  });
  if (!info) throw new UserError(`${missing}. Pass the layout-path output of build-oci.`);
  if (info.isSymbolicLink() || !info.isFile())
    throw new UserError(`${path} must be a regular file, not a link or directory.`);
  if (info.size > limit)
    throw new UserError(`${path} is ${info.size} bytes; the limit is ${limit}. Refusing the layout.`);
  return readLimited(path, info.size);
}

async function readLimited(path: string, limit: number): Promise<Buffer> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw unreadable(error, path) ?? error;
  });
  try {
    // Only the bytes read are returned, so the buffer need not be zero-filled.
    const buffer = Buffer.allocUnsafe(limit + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > limit) throw new UserError(`${path} is larger than ${limit} bytes; refusing it.`);
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

function parseJson(bytes: Buffer, where: string): unknown {
  const value = safeJson(bytes);
  if (value === undefined || value === null || typeof value !== 'object')
    throw new UserError(`${where} is not a JSON object.`);
  return value;
}

function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A UserError for a file or directory this process may not read (EACCES, EPERM), or undefined for other errors. */
function unreadable(error: unknown, path: string): UserError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'EACCES' && code !== 'EPERM') return undefined;
  const uid = process.getuid?.();
  return new UserError(
    `${path} cannot be read by the user this step runs as${uid === undefined ? '' : ` (uid ${uid})`}: ${code}. ` +
      'The layout was probably written by another user or with private modes (umoci writes 0600 files, a root container ' +
      'build writes root-owned ones). Make it readable before this step, for example `chmod -R a+rX <layout>` or ' +
      '`sudo chown -R "$(id -u):$(id -g)" <layout>`.',
  );
}

function stringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}
