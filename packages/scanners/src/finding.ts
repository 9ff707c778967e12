import type { FindingSeverity } from './severity.js';

/** One vulnerability in one package, from either scanner, in the form gates, summaries and SARIF use. */
/** What Trivy found besides vulnerabilities (scan-layout's scanners input): a secret, a misconfiguration, a license. */
export type FindingKind = 'secret' | 'misconfig' | 'license';

export interface Finding {
  scanner: 'trivy' | 'osv-scanner';
  /** Absent for a vulnerability. */
  kind?: FindingKind;
  id: string;
  aliases: string[];
  severity: FindingSeverity;
  /** CVSS score when the scanner gave one (OSV max_severity). */
  score?: number;
  pkg: string;
  installed: string;
  /** Versions that fix it; empty when unfixed. Trivy's comma list ("6.0.3.1, 5.2.4.3") is split. */
  fixed: string[];
  /** Trivy: the result Target; OSV: the source path (lockfile). */
  target: string;
  /** Trivy: the file the package was found in, when Trivy gives one (PkgPath). */
  pkgPath?: string;
  /** Platform of the scanned image manifest (scan-layout). */
  platform?: string;
  title?: string;
  url?: string;
  /** Trivy's Status (fixed, affected, will_not_fix, ...). */
  status?: string;
  /** A malicious-package advisory (OSV MAL-...). */
  malicious?: boolean;
}

export function splitFixedVersions(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}
