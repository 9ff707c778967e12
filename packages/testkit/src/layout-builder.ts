import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OCI_INDEX, OCI_MANIFEST, sha256Digest } from '@golden-image/oci';
import tar from 'tar-stream';

export interface LayoutSpec {
  /** e.g. ['linux/amd64', 'linux/arm64']. */
  platforms: string[];
  /** Size in bytes of each layer's one file, per platform (default one layer of 1 KiB). */
  layerSizes?: number[];
  /** Add a BuildKit-style provenance attestation manifest per platform (default true). */
  attestations?: boolean;
  /** Changes every byte of content: two seeds, two different images. */
  seed?: string;
  /** Per platform: the files of its one layer (path -> content), instead of pseudo-random layers. */
  files?: Record<string, Record<string, string | Buffer>>;
  /** With `files`: a second layer, the same bytes on every platform (an application COPY'd onto each base). */
  sharedFiles?: Record<string, string | Buffer>;
}

export interface BuiltLayout {
  path: string;
  digest: string;
  platforms: Record<string, string>;
  attestations: string[];
}

const CREATED = '1970-01-01T00:00:00Z';
const LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
const CONFIG = 'application/vnd.oci.image.config.v1+json';

/**
 * Writes a deterministic OCI layout shaped like buildx output: index.json -> one image index -> platform
 * manifests first, then attestation manifests (`unknown/unknown`). One platform without attestations gives
 * index.json -> manifest directly. Layers are real tar archives holding one file of pseudo-random bytes.
 */
export async function buildLayout(dir: string, spec: LayoutSpec): Promise<BuiltLayout> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const seed = spec.seed ?? 'golden-image';
  const attest = spec.attestations ?? true;
  const platforms: Record<string, string> = {};
  const images: object[] = [];
  const attestations: object[] = [];
  for (const platform of spec.platforms) {
    const [os, architecture, variant] = platform.split('/');
    const layers = [];
    const files = spec.files?.[platform];
    if (files) layers.push(await writeFilesLayer(blobs, files));
    if (files && spec.sharedFiles) layers.push(await writeFilesLayer(blobs, spec.sharedFiles));
    for (const [i, size] of (files ? [] : (spec.layerSizes ?? [1024])).entries()) {
      layers.push(await writeLayer(blobs, `${seed}/${platform}/${i}`, `layer-${i}.bin`, size));
    }
    const config = {
      architecture,
      os,
      ...(variant ? { variant } : {}),
      created: CREATED,
      config: {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    };
    const manifest = await writeJson(blobs, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: await writeJson(blobs, config, CONFIG),
      layers,
    });
    const descriptor = { ...manifest, platform: { architecture, os, ...(variant ? { variant } : {}) } };
    platforms[platform] = manifest.digest;
    images.push(descriptor);
    if (attest) attestations.push(await writeAttestation(blobs, manifest.digest, `${seed}/${platform}`));
  }
  let top: { mediaType: string; digest: string; size: number };
  if (images.length === 1 && !attest) {
    top = images[0] as typeof top;
  } else {
    top = await writeJson(blobs, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...images, ...attestations] });
  }
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ ...top, annotations: { 'org.opencontainers.image.created': CREATED } }],
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  return {
    path: dir,
    digest: top.digest,
    platforms,
    attestations: attestations.map((a) => (a as { digest: string }).digest),
  };
}

async function writeAttestation(blobs: string, subject: string, seed: string) {
  const statement = JSON.stringify({
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType: 'https://slsa.dev/provenance/v0.2',
    subject: [{ name: seed, digest: { sha256: subject.slice(7) } }],
    predicate: { builder: { id: 'golden-image/testkit' } },
  });
  const layer = {
    mediaType: 'application/vnd.in-toto+json',
    ...(await writeBytes(blobs, Buffer.from(statement))),
    annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
  };
  const config = await writeJson(
    blobs,
    { architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } },
    CONFIG,
  );
  const manifest = await writeJson(blobs, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] });
  return {
    ...manifest,
    annotations: { 'vnd.docker.reference.digest': subject, 'vnd.docker.reference.type': 'attestation-manifest' },
    platform: { architecture: 'unknown', os: 'unknown' },
  };
}

async function writeJson(blobs: string, value: object, mediaType?: string) {
  const bytes = Buffer.from(JSON.stringify(value));
  const written = await writeBytes(blobs, bytes);
  return { mediaType: mediaType ?? (value as { mediaType: string }).mediaType, ...written };
}

async function writeBytes(blobs: string, bytes: Buffer) {
  const digest = sha256Digest(bytes);
  await writeFile(join(blobs, digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/** A tar layer holding one file of `size` pseudo-random bytes (AES-CTR keyed by the seed: fast and repeatable). */
async function writeLayer(blobs: string, seed: string, name: string, size: number) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const pack = tar.pack();
  const temp = join(blobs, `.tmp-${createHash('sha256').update(seed).digest('hex')}`);
  const hash = createHash('sha256');
  let bytes = 0;
  pack.on('data', (chunk: unknown) => {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  });
  const writing = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(temp));
  const entry = pack.entry({ name, size, mtime: new Date(0), mode: 0o644, uid: 0, gid: 0, uname: '', gname: '' });
  await pipeline(Readable.from(randomChunks(cipher, size)), entry as unknown as NodeJS.WritableStream);
  pack.finalize();
  await writing;
  const digest = `sha256:${hash.digest('hex')}`;
  await rename(temp, join(blobs, digest.slice(7)));
  return { mediaType: LAYER_TAR, digest, size: bytes };
}

/** A tar layer holding the given files (and their parent directories), in path order. */
async function writeFilesLayer(blobs: string, files: Record<string, string | Buffer>) {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  const header = { mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' };
  const dirs = new Set<string>();
  for (const path of Object.keys(files).sort()) {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      pack.entry({ ...header, name: `${dir}/`, type: 'directory', mode: 0o755 });
    }
    pack.entry({ ...header, name: path, mode: 0o644 }, files[path] as string | Buffer);
  }
  pack.finalize();
  await ended;
  return { mediaType: LAYER_TAR, ...(await writeBytes(blobs, Buffer.concat(chunks))) };
}

function* randomChunks(cipher: ReturnType<typeof createCipheriv>, size: number): Generator<Buffer> {
  const zeros = Buffer.alloc(1 << 20);
  for (let left = size; left > 0; left -= zeros.length) {
    yield cipher.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
  }
}
