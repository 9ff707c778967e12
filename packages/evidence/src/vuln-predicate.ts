import { UserError } from '@golden-image/kit';
import { type Severity, type SeverityCounts, withoutUnscored } from '@golden-image/scanners';
import type { TrivyDbRecord } from './trivy-db.js';

/** One platform's Trivy report, and what the gate counted in it (after ignore files and ignore-unfixed). */
export interface PlatformScan {
  platform: string;
  digest: string;
  report: Record<string, unknown>;
  counts: SeverityCounts;
}

/** The gate's settings, recorded so a reader knows what "passed" meant. */
export interface GateSettings {
  severity: Severity[];
  ignoreUnfixed: boolean;
  /** The ignore files applied, by path and SHA-256 of their content. */
  ignoreFiles: { path: string; sha256: string }[];
}

export interface VulnPredicateOptions {
  image: string;
  /** The digest the attestation is for: the index (every platform's scan) or one platform manifest (its scan). */
  subject: string;
  scans: PlatformScan[];
  gate: GateSettings;
  /** The vulnerability DB the scans used, by digest (scan-layout's report, or the rescan's own). */
  db?: TrivyDbRecord;
  /** The Java DB, when a scan met a JAR. */
  javaDb?: TrivyDbRecord;
  mode: 'release' | 'rescan';
  /** When the scan ran; default: the reports' CreatedAt (Trivy writes it as the scan ends). */
  scanStartedOn?: string;
  scanFinishedOn?: string;
  /** The CI run that made it (a GitHub Actions run URL) and its id. */
  run?: { uri: string; eventId: string };
}

/** The findings counts the policy reads: every severity, after ignore files and ignore-unfixed. */
export type FindingCounts = Record<Severity, number>;

/**
 * cosign's `vuln` predicate (cosign pkg/cosign/attestation CosignVulnPredicate): scanner name, version and DB,
 * the result (for a platform manifest Trivy's report as written; for an index every platform's results, each
 * marked with its Platform), scan times, and in invocation.parameters the gate: its settings, the counts it saw,
 * and the DBs by repository and digest (scanner.db.uri is the vulnerability DB's REPOSITORY@DIGEST).
 */
export function vulnPredicate(options: VulnPredicateOptions): Record<string, unknown> {
  if (options.scans.length === 0) throw new Error('vulnPredicate needs at least one platform scan');
  const version = trivyVersionOf(options.scans);
  // ISO times in UTC sort as text.
  const times = options.scans.map((scan) => createdAt(scan)).sort();
  const started = options.scanStartedOn ?? (times[0] as string);
  const finished = options.scanFinishedOn ?? (times[times.length - 1] as string);
  const findings = sumCounts(options.scans.map((scan) => scan.counts));
  const blocking = options.gate.severity.reduce((sum, severity) => sum + findings[severity], 0);
  const single = options.scans.length === 1 && options.scans[0]?.digest === options.subject;
  return {
    invocation: {
      parameters: {
        mode: options.mode,
        image: options.image,
        digest: options.subject,
        platforms: options.scans.map(({ platform, digest }) => ({ platform, digest })),
        gate: options.gate,
        findings,
        blocking,
        passed: blocking === 0,
        db: options.db ?? null,
        ...(options.javaDb ? { javaDb: options.javaDb } : {}),
      },
      uri: options.run?.uri ?? '',
      event_id: options.run?.eventId ?? '',
      'builder.id': 'https://github.com/golden-image/golden-image/actions/attest-evidence',
    },
    scanner: {
      uri: `pkg:github/aquasecurity/trivy@v${version}`,
      version,
      db: {
        uri: options.db ? `${options.db.repository}@${options.db.digest}` : '',
        version: options.db?.UpdatedAt ?? '',
      },
      result: single ? options.scans[0]?.report : indexResult(options, version),
    },
    metadata: { scanStartedOn: started, scanFinishedOn: finished },
  };
}

function indexResult(options: VulnPredicateOptions, version: string): Record<string, unknown> {
  return {
    SchemaVersion: 2,
    Trivy: { Version: version },
    ArtifactName: `${options.image}@${options.subject}`,
    ArtifactType: 'container_image_index',
    Platforms: options.scans.map((scan) => ({
      Platform: scan.platform,
      Digest: scan.digest,
      ReportID: scan.report.ReportID,
      CreatedAt: scan.report.CreatedAt,
      ArtifactID: scan.report.ArtifactID,
    })),
    Results: options.scans.flatMap((scan) =>
      (Array.isArray(scan.report.Results) ? (scan.report.Results as Record<string, unknown>[]) : []).map((result) => ({
        Platform: scan.platform,
        ...result,
      })),
    ),
  };
}

export function sumCounts(all: SeverityCounts[]): FindingCounts {
  const total: FindingCounts = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
  for (const counts of all) {
    for (const [severity, count] of Object.entries(withoutUnscored(counts))) {
      if (severity in total) total[severity as Severity] += count;
    }
  }
  return total;
}

function trivyVersionOf(scans: PlatformScan[]): string {
  const versions = new Set(scans.map((scan) => (scan.report.Trivy as { Version?: unknown } | undefined)?.Version));
  const [version] = versions;
  if (versions.size !== 1 || typeof version !== 'string' || version === '') {
    throw new UserError(
      `The Trivy reports do not name one Trivy version (Trivy.Version: ${[...versions].map(String).join(', ')}); ` +
        'they must come from one Trivy run of 0.50 or newer (scan-layout).',
    );
  }
  return version;
}

function createdAt(scan: PlatformScan): string {
  const value = scan.report.CreatedAt;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new UserError(`The Trivy report for ${scan.platform} has no CreatedAt time, so the scan time is unknown.`);
  }
  return new Date(value).toISOString();
}
