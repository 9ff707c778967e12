import { readFile } from 'node:fs/promises';
import { UserError } from '@golden-image/kit';
import { DIGEST_PATTERN } from '@golden-image/oci';
import type { TrivyDbUse } from '@golden-image/scanners';

/**
 * What the vuln predicate records of a Trivy DB (invocation.parameters.db, .javaDb): the repository and manifest
 * digest the scan used, how it was had (registry: downloaded in that step; actions-cache or job: a kept copy whose
 * bytes were checked against the digest resolved in that step; fallback: no registry could be reached, the last
 * cached copy), the db-repository entry resolved, and the DB's own metadata times.
 */
export interface TrivyDbRecord {
  repository: string;
  digest: string;
  source: string;
  resolvedFrom?: string;
  Version?: number;
  UpdatedAt?: string;
  NextUpdate?: string;
}

export interface TrivyDbRecords {
  db?: TrivyDbRecord;
  javaDb?: TrivyDbRecord;
}

/** The records of the DBs a Trivy session used (scanners' trivyDbsUsed). */
export function dbRecords(uses: readonly TrivyDbUse[]): TrivyDbRecords {
  const record = (use: TrivyDbUse): TrivyDbRecord => ({
    repository: use.repository,
    digest: use.digest,
    source: use.source,
    ...(use.resolvedFrom ? { resolvedFrom: use.resolvedFrom } : {}),
    ...(use.version !== undefined ? { Version: use.version } : {}),
    ...(use.updatedAt ? { UpdatedAt: use.updatedAt } : {}),
    ...(use.nextUpdate ? { NextUpdate: use.nextUpdate } : {}),
  });
  const vuln = uses.find((use) => use.kind === 'vuln');
  const java = uses.find((use) => use.kind === 'java');
  return { ...(vuln ? { db: record(vuln) } : {}), ...(java ? { javaDb: record(java) } : {}) };
}

/**
 * The DBs scan-layout's report names (its `trivyDbs`, written by the run that scanned): the scan result records
 * exactly those. A report without them (a scan-layout older than this attest-evidence) records none.
 */
export async function scanReportDbs(file: string): Promise<TrivyDbRecords | undefined> {
  let parsed: { trivyDbs?: unknown };
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UserError(`Input "report": ${file} is not a readable JSON file (${(error as Error).message}).`);
  }
  if (parsed?.trivyDbs === undefined) return undefined;
  const uses = Array.isArray(parsed.trivyDbs) ? (parsed.trivyDbs as Partial<TrivyDbUse>[]) : [];
  const valid = uses.every(
    (use) =>
      (use?.kind === 'vuln' || use?.kind === 'java') &&
      typeof use.repository === 'string' &&
      typeof use.digest === 'string' &&
      DIGEST_PATTERN.test(use.digest) &&
      typeof use.source === 'string',
  );
  if (!valid || !uses.some((use) => use.kind === 'vuln')) {
    throw new UserError(
      `Input "report": ${file} names its Trivy DBs in an unknown form (trivyDbs); pass the report output of scan-layout.`,
    );
  }
  return dbRecords(uses as TrivyDbUse[]);
}
