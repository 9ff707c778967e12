import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrivyDbMetadata } from './vuln-predicate.js';

/**
 * Where scan-layout's Trivy session keeps the vulnerability DB of the job (packages/scanners trivy-run.ts:
 * RUNNER_TEMP/golden-image-trivy/cache): the same job's attest-evidence reads the DB time there.
 */
export function jobTrivyCacheDir(tempDir: string): string {
  return join(tempDir, 'golden-image-trivy', 'cache');
}

/** db/metadata.json of a Trivy cache directory, or undefined when there is none. */
export async function trivyDbMetadata(cacheDir: string): Promise<TrivyDbMetadata | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(cacheDir, 'db', 'metadata.json'), 'utf8')) as TrivyDbMetadata;
    const pick = (value: unknown) => (typeof value === 'string' ? value : undefined);
    return {
      ...(typeof parsed.Version === 'number' ? { Version: parsed.Version } : {}),
      ...(pick(parsed.UpdatedAt) ? { UpdatedAt: pick(parsed.UpdatedAt) } : {}),
      ...(pick(parsed.NextUpdate) ? { NextUpdate: pick(parsed.NextUpdate) } : {}),
      ...(pick(parsed.DownloadedAt) ? { DownloadedAt: pick(parsed.DownloadedAt) } : {}),
    };
  } catch {
    return undefined;
  }
}
