import { readFile } from 'node:fs/promises';
import { UserError } from '@golden-image/kit';
import type { PlatformManifest } from '@golden-image/oci';
import { gateTrivyReport, type IgnoreRules, type Severity } from '@golden-image/scanners';
import type { PlatformScan } from './vuln-predicate.js';

export interface GateOptions {
  severity: Severity[];
  ignoreUnfixed: boolean;
  ignore: IgnoreRules;
}

/**
 * Reads scan-layout's `report` file ({digest, layout, platforms: [{platform, digest, report}]}) and returns one
 * scan per platform of `platforms`, re-gated with the same settings. It must be the report of exactly this digest
 * and name every platform by its manifest digest: a report of other bytes is never attached.
 */
export async function readScanReport(
  file: string,
  digest: string,
  platforms: readonly PlatformManifest[],
  gate: GateOptions,
): Promise<PlatformScan[]> {
  let parsed: { digest?: unknown; platforms?: unknown };
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UserError(`Input "report": ${file} is not a readable JSON file (${(error as Error).message}).`);
  }
  if (parsed?.digest !== digest) {
    throw new UserError(
      `Input "report": ${file} is the scan of ${String(parsed?.digest)}, not of ${digest}; pass the report output of the scan-layout run that scanned this digest.`,
    );
  }
  const entries = Array.isArray(parsed.platforms)
    ? (parsed.platforms as { platform?: unknown; digest?: unknown; report?: unknown }[])
    : [];
  return platforms.map((manifest) => {
    const entry = entries.find((e) => e?.digest === manifest.digest);
    if (!entry || entry.platform !== manifest.platform || !entry.report || typeof entry.report !== 'object') {
      throw new UserError(
        `Input "report": ${file} has no Trivy report for ${manifest.platform} (${manifest.digest}); every platform must have been scanned.`,
      );
    }
    const verdict = gateTrivyReport(entry.report, `in ${file} for ${manifest.platform}`, {
      severities: new Set(gate.severity),
      ignoreUnfixed: gate.ignoreUnfixed,
      ignore: gate.ignore,
      platform: manifest.platform,
    });
    return {
      platform: manifest.platform,
      digest: manifest.digest,
      report: entry.report as Record<string, unknown>,
      counts: verdict.counts,
    };
  });
}
