import { md } from '@golden-image/kit';
import {
  countsTable,
  type Finding,
  findingsTable,
  type OsvGate,
  type SbomInfo,
  type SeverityCounts,
  SUMMARY_ROW_LIMIT,
  type TrivyGate,
} from '@golden-image/scanners';
import type { ContentsFinding } from './contents-policy.js';
import type { ManifestFinding } from './manifest-check.js';
import type { DependencyTree } from './resolve-deps.js';
import type { SecretFinding } from './secret-scan.js';

export interface NpmScanReport {
  id: string;
  integrity: string;
  files: number;
  unpackedBytes: number;
  tree: DependencyTree;
  registry: string;
  osvGate: OsvGate | undefined;
  trivyGate: TrivyGate;
  selected: Finding[];
  secrets: SecretFinding[];
  contents: ContentsFinding[];
  manifest: ManifestFinding[];
  severities: string[];
  failed: boolean;
  sbom?: { file: string; info: SbomInfo; artifact: string; uploaded: boolean };
}

function limited<T>(rows: T[], render: (rows: T[]) => string): string {
  const more = rows.length > SUMMARY_ROW_LIMIT ? `\n…and ${rows.length - SUMMARY_ROW_LIMIT} more.\n` : '';
  return `${render(rows.slice(0, SUMMARY_ROW_LIMIT))}\n${more}`;
}

/** scan-npm's job summary: what was scanned (the tarball, by integrity), every gate, and what blocks. */
export function npmScanSummary(r: NpmScanReport): string {
  const treeText =
    r.tree.source === 'no dependencies'
      ? 'no dependencies'
      : `${r.tree.packages} packages from ${r.tree.source === 'resolved' ? `a lockfile resolved against ${r.registry} (dev dependencies left out)` : "the tarball's npm-shrinkwrap.json (dev entries left out)"}`;
  const parts = [
    md.heading(`scan-npm: ${md.code(r.id)}: ${r.failed ? 'failed' : 'passed'}`),
    md.facts([
      ['integrity', `${md.code(r.integrity)} (re-hashed before and after the scan)`],
      ['Contents', `${r.files} files, ${r.unpackedBytes} bytes, unpacked safely (package/ only, no links)`],
      ['Dependencies a consumer installs', treeText],
      ['Blocking severities', r.severities.join(', ')],
      ['Secrets (Trivy)', String(r.secrets.length)],
      ['Contents policy', String(r.contents.length)],
      [
        'Manifest',
        `${r.manifest.filter((f) => f.blocking).length} blocking, ${r.manifest.filter((f) => !f.blocking).length} allowed`,
      ],
    ]),
    '',
    countsTable(
      [
        ...(r.osvGate ? [['OSV-Scanner', r.osvGate.counts] as [string, SeverityCounts]] : []),
        ['Trivy', r.trivyGate.counts],
      ],
      'Scanner',
    ),
    '',
  ];
  if (r.selected.length > 0) parts.push(md.heading('Blocking vulnerabilities', 3), findingsTable(r.selected, false));
  if (r.secrets.length > 0) {
    parts.push(
      md.heading('Secrets in the tarball', 3),
      limited(r.secrets, (rows) =>
        md.table(
          ['File', 'Line', 'Rule', 'Severity'],
          rows.map((s) => [s.path, String(s.line ?? ''), `${s.ruleId}: ${s.title}`, s.severity]),
        ),
      ),
    );
  }
  if (r.contents.length > 0) {
    parts.push(
      md.heading('Files the contents policy refuses', 3),
      limited(r.contents, (rows) =>
        md.table(
          ['File', 'Rule'],
          rows.map((c) => [c.path, c.rule]),
        ),
      ),
    );
  }
  if (r.manifest.length > 0) {
    parts.push(
      md.heading('package.json', 3),
      md.table(
        ['Check', 'Finding', 'Blocks'],
        r.manifest.map((m) => [m.kind, m.detail, m.blocking ? 'yes' : 'no (allowed)']),
      ),
      '',
    );
  }
  if (r.sbom) {
    const where = r.sbom.uploaded ? `artifact ${md.code(r.sbom.artifact)}` : md.code(r.sbom.file);
    parts.push(`SBOM (${r.sbom.info.format}, ${r.sbom.info.components} components): ${where}\n`);
  }
  return parts.join('\n');
}
