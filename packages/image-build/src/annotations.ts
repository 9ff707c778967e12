import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import { sha256Digest } from '@golden-image/oci';
import { parseAnnotation } from './validate.js';

export type AnnotationKind = 'manifest' | 'index' | 'manifest-descriptor' | 'index-descriptor';

/** One annotation entry in buildx's `[TYPE[PLATFORM],…:]KEY=VALUE` form; no type means `manifest`, as in buildx. */
export interface Annotation {
  key: string;
  value: string;
  targets: { kind: AnnotationKind; platform?: string }[];
}

export function parseAnnotationEntry(entry: string): Annotation {
  const { types } = parseAnnotation(entry);
  const eq = entry.indexOf('=');
  const head = entry.slice(0, eq);
  const key = types.length > 0 ? head.slice(head.indexOf(':') + 1) : head;
  const targets = (types.length > 0 ? types : ['manifest']).map((type) => {
    const platform = /\[(.*)\]$/.exec(type)?.[1];
    const kind = type.replace(/\[.*\]$/, '') as AnnotationKind;
    return platform ? { kind, platform } : { kind };
  });
  return { key, value: entry.slice(eq + 1), targets };
}

/** `KEY=VALUE` for buildah build's `--annotation` (the image manifest) of one platform. */
export function manifestAnnotationsFor(entries: readonly string[], platform: string): string[] {
  return entries
    .map(parseAnnotationEntry)
    .filter((a) => a.targets.some((t) => t.kind === 'manifest' && (!t.platform || t.platform === platform)))
    .map((a) => `${a.key}=${a.value}`);
}

interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

/**
 * Adds the index, manifest-descriptor and index-descriptor annotations to a layout buildah wrote (buildah 1.28, on
 * Debian 12, cannot annotate an index; ubuntu runners' 1.33 only the same way): the index blob is rewritten with
 * the same manifests, the old blob removed, index.json pointed at the new one. Nothing changes when there is nothing
 * to add. The caller verifies the layout afterwards.
 */
export async function annotateIndex(layoutPath: string, entries: readonly string[]): Promise<void> {
  const annotations = entries.map(parseAnnotationEntry);
  const wanted = (kind: AnnotationKind) =>
    annotations.flatMap((a) => a.targets.filter((t) => t.kind === kind).map((t) => ({ ...a, platform: t.platform })));
  const index = wanted('index');
  const descriptors = wanted('manifest-descriptor');
  const outer = wanted('index-descriptor');
  if (index.length + descriptors.length + outer.length === 0) return;

  const layoutJson = JSON.parse(await readFile(join(layoutPath, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const top = layoutJson.manifests[0];
  if (!top || layoutJson.manifests.length !== 1 || !top.mediaType.includes('index'))
    throw new UserError(`buildah wrote ${layoutPath}/index.json in an unexpected shape; cannot add index annotations.`);
  const blobPath = (digest: string) => join(layoutPath, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const list = JSON.parse(await readFile(blobPath(top.digest), 'utf8')) as {
    manifests: Descriptor[];
    annotations?: Record<string, string>;
  };
  if (index.length > 0)
    list.annotations = { ...list.annotations, ...Object.fromEntries(index.map((a) => [a.key, a.value])) };
  for (const descriptor of list.manifests) {
    const platform = [descriptor.platform?.os, descriptor.platform?.architecture, descriptor.platform?.variant]
      .filter(Boolean)
      .join('/');
    const mine = descriptors.filter((a) => !a.platform || a.platform === platform);
    if (mine.length > 0)
      descriptor.annotations = { ...descriptor.annotations, ...Object.fromEntries(mine.map((a) => [a.key, a.value])) };
  }
  const bytes = Buffer.from(JSON.stringify(list));
  const digest = sha256Digest(bytes);
  await writeFile(blobPath(digest), bytes);
  if (digest !== top.digest) await rm(blobPath(top.digest));
  const entry: Descriptor = { ...top, digest, size: bytes.length };
  if (outer.length > 0)
    entry.annotations = { ...top.annotations, ...Object.fromEntries(outer.map((a) => [a.key, a.value])) };
  await writeFile(join(layoutPath, 'index.json'), JSON.stringify({ ...layoutJson, manifests: [entry] }));
}
