import { show, UserError } from '@golden-image/kit';
import { isDigest } from '@golden-image/oci';

/** The keys of one build's result in a buildx `--metadata-file`. */
export interface BuildxResultMetadata {
  digest?: string;
  configDigest?: string;
  descriptor?: { mediaType?: string; digest?: string; size?: number };
  imageName?: string;
  ref?: string;
}

export interface BuildxMetadata extends BuildxResultMetadata {
  /** `docker buildx bake --metadata-file` writes one object per target (plus top-level warnings). */
  targets: Record<string, BuildxResultMetadata>;
  warnings: number;
  raw: Record<string, unknown>;
}

/**
 * Parses a buildx metadata file of either shape: `build` (keys at the top) or `bake` (one object per target).
 * Keys buildx may leave out (descriptor, image.name when nothing was pushed) stay undefined.
 */
export function parseBuildxMetadata(text: string, where = 'the buildx metadata file'): BuildxMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError(`${where} is not JSON: ${show(text.slice(0, 80))}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${where} is not a JSON object.`);
  const record = raw as Record<string, unknown>;
  const targets: Record<string, BuildxResultMetadata> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!key.includes('.') && value && typeof value === 'object' && !Array.isArray(value)) {
      targets[key] = resultOf(value as Record<string, unknown>, `${where} target ${show(key)}`);
    }
  }
  const warnings = Array.isArray(record['buildx.build.warnings']) ? record['buildx.build.warnings'].length : 0;
  return { ...resultOf(record, where), targets, warnings, raw: record };
}

function resultOf(record: Record<string, unknown>, where: string): BuildxResultMetadata {
  const result: BuildxResultMetadata = {};
  const digest = record['containerimage.digest'];
  if (digest !== undefined) {
    if (typeof digest !== 'string' || !isDigest(digest))
      throw new UserError(`${where}: containerimage.digest ${show(String(digest))} is not a sha256 digest.`);
    result.digest = digest;
  }
  const config = record['containerimage.config.digest'];
  if (typeof config === 'string') result.configDigest = config;
  const descriptor = record['containerimage.descriptor'];
  if (descriptor && typeof descriptor === 'object')
    result.descriptor = descriptor as BuildxResultMetadata['descriptor'];
  if (typeof record['image.name'] === 'string') result.imageName = record['image.name'];
  if (typeof record['buildx.build.ref'] === 'string') result.ref = record['buildx.build.ref'];
  return result;
}

/** The digest of a single `docker buildx build`; the descriptor's digest must agree when both are present. */
export function buildDigest(metadata: BuildxMetadata, where = 'the buildx metadata file'): string {
  if (!metadata.digest) {
    const targets = Object.keys(metadata.targets);
    const hint = targets.length > 0 ? ` It holds bake targets (${targets.join(', ')}), not a single build.` : '';
    throw new UserError(
      `${where} has no containerimage.digest, so the layout cannot be checked against the build.${hint}`,
    );
  }
  const described = metadata.descriptor?.digest;
  if (described !== undefined && described !== metadata.digest) {
    throw new UserError(
      `${where} disagrees with itself: containerimage.digest ${metadata.digest}, containerimage.descriptor ${described}.`,
    );
  }
  return metadata.digest;
}
