import { md } from '@golden-image/kit';
import type { Finding } from './finding.js';
import { COUNT_KEYS, type SeverityCounts } from './severity.js';
import type { IgnoreRules } from './trivy-ignore.js';

/** The job summary is limited to 1 MiB: long finding lists are cut. */
export const SUMMARY_ROW_LIMIT = 100;

export function countsTable(rows: readonly [string, SeverityCounts][], label: string): string {
  const keys = COUNT_KEYS.filter((key) => key !== 'UNSCORED' || rows.some(([, counts]) => counts.UNSCORED > 0));
  return md.table(
    [label, ...keys],
    rows.map(([name, counts]) => [name, ...keys.map((key) => String(counts[key]))]),
  );
}

export function findingsTable(findings: readonly Finding[], withPlatform: boolean): string {
  const header = [...(withPlatform ? ['Platform'] : []), 'Severity', 'ID', 'Package', 'Installed', 'Fixed', 'Target'];
  const rows = findings
    .slice(0, SUMMARY_ROW_LIMIT)
    .map((f) => [
      ...(withPlatform ? [f.platform ?? ''] : []),
      f.malicious ? `${f.severity} (malicious)` : f.severity,
      f.kind ? `${f.kind} ${f.id}` : f.id,
      f.pkg,
      f.installed,
      f.kind ? '' : f.fixed.length > 0 ? f.fixed.join(', ') : '(no fix)',
      f.target,
    ]);
  const more =
    findings.length > SUMMARY_ROW_LIMIT ? `\n\n…and ${findings.length - SUMMARY_ROW_LIMIT} more (see the report).` : '';
  return `${md.table(header, rows)}${more}\n`;
}

export function ignoreSection(rules: IgnoreRules | undefined): string {
  if (!rules || rules.entries.length === 0) return '';
  const parts: string[] = [];
  const where = (e: { file: string; line?: number }) => (e.line ? `${e.file}:${e.line}` : e.file);
  const expired = rules.expired;
  const unmatched = rules.unmatched;
  if (expired.length > 0) {
    parts.push(
      `**Expired ignore entries** (no longer applied):\n\n${md.table(
        ['ID', 'Expired', 'File'],
        expired.map((e) => [e.id, (e.expires ?? '').replace('T00:00:00.000Z', ''), where(e)]),
      )}\n`,
    );
  }
  if (unmatched.length > 0) {
    parts.push(
      `**Ignore entries that matched nothing** (remove them?):\n\n${md.table(
        ['ID', 'File'],
        unmatched.map((e) => [e.id, where(e)]),
      )}\n`,
    );
  }
  return parts.join('\n');
}
