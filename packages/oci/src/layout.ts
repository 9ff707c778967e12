import { lstat, open, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { show, UserError } from '@golden-image/kit';
import { digestProblem, sha256Digest } from './digest.js';
import {
  ATTESTATION_MANIFEST,
  ATTESTATION_REFERENCE_TYPE,
  ATTESTATION_SUBJECT,
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
  /** For an attestation: the digest of the image manifest it describes. */
  subject?: string;
}

export interface VerifiedLayout {
  /** Absolute, symlink-free path of the layout directory. */
  path: string;
  /** Digest of the top-level manifest or index that index.json points at. */
  digest: string;
  mediaType: string;
  manifests: PlatformManifest[];
  blobCount: number;
  /** Bytes of every blob reached (layers included), each counted once. */
  totalBytes: number;
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
 * index.json names exactly one top-level digest, which must equal `expectedDigest` when given; every index and
 * manifest blob reached exists, is a regular file inside the layout and hashes to its name; every layer and
 * config blob exists with the size its descriptor gives. Throws a UserError naming the first problem.
 */
export async function verifyLayout(
  dir: string,
  expectedDigest?: string,
  options: VerifyOptions = {},
): Promise<VerifiedLayout> {
  const path = await layoutRoot(dir);
  const layout = new LayoutReader(path, options.layers ?? 'size');
  const top = await layout.topDescriptor();
  if (expectedDigest !== undefined && top.digest !== expectedDigest) {
    throw new UserError(
      `The layout at ${path} does not hold the expected image: index.json points at ${top.digest}, but the "digest" input is ${expectedDigest}. ` +
        'Pass the digest output of the step that built this layout, and build into a fresh directory.',
    );
  }
  const manifests: PlatformManifest[] = [];
  await layout.walk(top, 0, manifests);
  return {
    path,
    digest: top.digest,
    mediaType: top.mediaType,
    manifests,
    blobCount: layout.seen.size,
    totalBytes: layout.totalBytes,
  };
}

/** The runnable platforms of a verified layout: `{"linux/amd64": "sha256:…"}`, attestations left out. */
export function platformDigests(manifests: readonly PlatformManifest[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const manifest of manifests) {
    if (!manifest.attestation) result[manifest.platform] = manifest.digest;
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
  } catch {
    throw new UserError(`Layout directory ${show(dir)} does not exist. Pass the layout-path output of build-oci.`);
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
  private descriptorCount = 0;

  constructor(
    private readonly root: string,
    private readonly layers: 'size' | 'digest',
  ) {}

  async topDescriptor(): Promise<Descriptor> {
    const bytes = await readSmallFile(this.root, 'index.json', LIMITS.indexJsonBytes, `${this.root} has no index.json`);
    const index = parseJson(bytes, `${this.root}/index.json`) as { manifests?: unknown };
    if (!Array.isArray(index.manifests) || index.manifests.length === 0) {
      throw new UserError(`${this.root}/index.json lists no manifests: the layout is empty.`);
    }
    const descriptors = index.manifests.map((entry, i) => this.descriptor(entry, `index.json manifests[${i}]`));
    const digests = new Set(descriptors.map((d) => d.digest));
    if (digests.size > 1) {
      throw new UserError(
        `${this.root}/index.json points at ${digests.size} different images (${[...digests].join(', ')}). ` +
          'buildx and buildah add to an existing layout: build into a fresh, empty directory.',
      );
    }
    const top = descriptors[0] as Descriptor;
    if (!INDEX_TYPES.has(top.mediaType) && !MANIFEST_TYPES.has(top.mediaType)) {
      throw new UserError(
        `${this.root}/index.json points at a ${show(top.mediaType)}, which is neither an image index nor an image manifest.`,
      );
    }
    return top;
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
      const index = (await this.readJsonBlob(descriptor, LIMITS.manifestBytes)) as { manifests?: unknown };
      if (!Array.isArray(index.manifests))
        throw new UserError(`${this.blobName(descriptor)}: image index has no manifests list.`);
      const children = index.manifests.map((entry, i) =>
        this.descriptor(entry, `${descriptor.digest} manifests[${i}]`),
      );
      for (const child of children) await this.walk(child, depth + 1, out);
      return;
    }
    if (MANIFEST_TYPES.has(descriptor.mediaType)) {
      const manifest = (await this.readJsonBlob(descriptor, LIMITS.manifestBytes)) as {
        config?: unknown;
        layers?: unknown;
      };
      const config = this.descriptor(manifest.config, `${descriptor.digest} config`);
      const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
      const configBytes = await this.readBlob(config, LIMITS.configBytes);
      for (const [i, layer] of layers.entries())
        await this.checkLayer(this.descriptor(layer, `${descriptor.digest} layers[${i}]`));
      out.push(this.platformManifest(descriptor, configBytes));
      return;
    }
    // Other artifacts (signatures, SBOM blobs referenced from an index) are checked by size only.
    await this.checkLayer(descriptor);
  }

  private platformManifest(descriptor: Descriptor, configBytes: Buffer): PlatformManifest {
    const annotations = descriptor.annotations ?? {};
    const attestation =
      annotations[ATTESTATION_REFERENCE_TYPE] === ATTESTATION_MANIFEST ||
      (descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown');
    let platform = descriptor.platform ? formatPlatform(descriptor.platform) : undefined;
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
      const info = await lstat(join(this.root, part)).catch(() => undefined);
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
      if ((await sha256File(path)) !== descriptor.digest) {
        throw new UserError(
          `${this.root}: ${this.blobName(descriptor)} does not hash to its name: the blob was changed after the build.`,
        );
      }
    }
  }
}

async function readSmallFile(root: string, name: string, limit: number, missing: string): Promise<Buffer> {
  const path = join(root, name);
  const info = await lstat(path).catch(() => undefined);
  if (!info) throw new UserError(`${missing}. Pass the layout-path output of build-oci.`);
  if (info.isSymbolicLink() || !info.isFile())
    throw new UserError(`${path} must be a regular file, not a link or directory.`);
  if (info.size > limit)
    throw new UserError(`${path} is ${info.size} bytes; the limit is ${limit}. Refusing the layout.`);
  return readLimited(path, info.size);
}

async function readLimited(path: string, limit: number): Promise<Buffer> {
  const handle = await open(path, 'r');
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
