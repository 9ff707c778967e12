import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import type { EvidenceItem } from './attach.js';
import { isEvidenceKind } from './kinds.js';

const INDEX_FILE = 'evidence.json';

interface EvidenceIndex {
  digest: string;
  items: { digest: string; platform: string; kind: string; file: string }[];
}

/**
 * Writes prepared evidence (mode prepare) to a directory another job can take as an artifact: evidence.json names
 * each predicate file and what it is about. Nothing in it is signed yet.
 */
export async function writeEvidenceDir(dir: string, digest: string, items: EvidenceItem[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const index: EvidenceIndex = { digest, items: [] };
  for (const item of items) {
    const file = `${item.digest.replace(':', '-')}.${item.kind}.json`;
    await writeFile(join(dir, file), JSON.stringify(item.predicate));
    index.items.push({ digest: item.digest, platform: item.platform, kind: item.kind, file });
  }
  await writeFile(join(dir, INDEX_FILE), JSON.stringify(index, null, 2));
}

/** Reads a directory writeEvidenceDir wrote, for `digest` only. */
export async function readEvidenceDir(dir: string, digest: string): Promise<EvidenceItem[]> {
  let index: EvidenceIndex;
  try {
    index = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8')) as EvidenceIndex;
  } catch (error) {
    throw new UserError(
      `Input "evidence-dir": ${dir} holds no readable ${INDEX_FILE} (${(error as Error).message}); pass the evidence-dir output of attest-evidence mode prepare.`,
    );
  }
  if (index.digest !== digest) {
    throw new UserError(`Input "evidence-dir": ${dir} holds the evidence of ${index.digest}, not of ${digest}.`);
  }
  const items: EvidenceItem[] = [];
  for (const entry of index.items ?? []) {
    if (!isEvidenceKind(entry.kind) || /[/\\]/.test(entry.file)) {
      throw new UserError(
        `Input "evidence-dir": ${INDEX_FILE} has an entry that is not evidence: ${JSON.stringify(entry)}.`,
      );
    }
    const predicate: unknown = JSON.parse(await readFile(join(dir, entry.file), 'utf8'));
    items.push({ digest: entry.digest, platform: entry.platform, kind: entry.kind, predicate });
  }
  return items;
}

/**
 * The platform manifests of the pushed index (attestation manifests left out), read from the registry: prepared
 * evidence must name exactly these, or it is about other bytes.
 */
export function checkEvidenceCovers(items: EvidenceItem[], digest: string, registryPlatforms: string[]): void {
  const named = new Set(items.map((item) => item.digest));
  const expected = new Set([digest, ...registryPlatforms]);
  const stray = [...named].filter((d) => !expected.has(d));
  const missing = registryPlatforms.filter((d) => !named.has(d));
  if (stray.length > 0 || missing.length > 0 || (!named.has(digest) && registryPlatforms.length === 0)) {
    throw new UserError(
      `The prepared evidence does not match ${digest} in the registry: ${
        [
          ...stray.map((d) => `${d} is not one of its manifests`),
          ...missing.map((d) => `its platform manifest ${d} has no evidence`),
        ].join('; ') || 'it names nothing of it'
      }.`,
    );
  }
}
