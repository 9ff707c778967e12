import { type ActionContext, md } from '@golden-image/kit';
import type { Finding } from './finding.js';
import type { OsvGate } from './osv-report.js';
import type { SeverityCounts } from './severity.js';
import { countsTable, findingsTable, ignoreSection } from './summary.js';
import type { SbomInfo } from './syft.js';
import type { IgnoreRules } from './trivy-ignore.js';
import type { TrivyGate } from './trivy-report.js';

/** scan-repo's report: annotations on the lockfiles, and the job summary. */

/** Most annotations GitHub shows per step are 10 errors; a few more do no harm, thousands would. */
const ANNOTATION_LIMIT = 50;

export function annotateFindings(
  ctx: ActionContext,
  findings: readonly Finding[],
  repoPath: (f: Finding) => string,
): void {
  const seen = new Set<string>();
  for (const finding of findings) {
    const file = repoPath(finding);
    const key = `${file}\0${finding.id}\0${finding.pkg}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (seen.size > ANNOTATION_LIMIT) {
      ctx.info(`…more blocking findings than ${ANNOTATION_LIMIT} annotations; see the job summary and the reports.`);
      return;
    }
    const fixed = finding.fixed.length > 0 ? `fixed in ${finding.fixed.join(', ')}` : 'no fix available';
    const kind = finding.malicious ? 'malicious package' : finding.severity;
    ctx.error(`${finding.id} (${kind}) in ${finding.pkg} ${finding.installed}: ${fixed}. [${finding.scanner}]`, {
      file,
      title: `${finding.scanner}: ${finding.id}`,
    });
  }
}

export function withoutUnscored(counts: SeverityCounts): Record<string, number> {
  const { UNSCORED: _unscored, ...rest } = counts;
  return rest;
}

export function repoSummary(s: {
  path: string;
  osvGate: OsvGate | undefined;
  trivyGate: TrivyGate;
  selected: Finding[];
  ignore: IgnoreRules;
  severities: string[];
  failed: boolean;
  sbom: { file: string; info: SbomInfo; artifact: string; uploaded: boolean } | undefined;
  repoPath: (f: Finding) => string;
  /** The offline OSV database OSV-Scanner matched against (osv-offline-db), when it ran offline. */
  osvOfflineDb?: string;
  blockUncalled: boolean;
}): string {
  const rows: [string, SeverityCounts][] = [['Trivy (filesystem)', s.trivyGate.counts]];
  if (s.osvGate) rows.unshift(['OSV-Scanner', s.osvGate.counts]);
  const parts = [
    md.heading(`scan-repo: ${s.failed ? 'failed' : 'passed'}`),
    `Scanned ${md.code(s.path)}. Blocking severities: ${s.severities.join(', ')}; unscored and malicious-package OSV advisories block unless block-unscored / block-malicious are false; ${s.blockUncalled ? 'OSV findings block whether or not their code is called (block-uncalled: true, call analysis off)' : 'OSV findings that Go call analysis shows are not called do not block (block-uncalled: false)'}.\n`,
    s.osvOfflineDb ? `OSV-Scanner ran offline against the database in ${md.code(s.osvOfflineDb)}.\n` : '',
    s.osvGate ? '' : 'OSV-Scanner found no lockfiles or package sources (exit 128): nothing to check there.\n',
    countsTable(rows, 'Scanner'),
    '',
    `Suppressed (Trivy): ${s.trivyGate.suppressed.ignored} by ignore files, ${s.trivyGate.suppressed.unfixed} unfixed.${s.osvGate?.malicious ? ` Malicious-package advisories: ${s.osvGate.malicious}.` : ''}${s.osvGate?.uncalled ? ` Not called (OSV call analysis): ${s.osvGate.uncalled}.` : ''}\n`,
  ];
  if (s.selected.length > 0) {
    const located = s.selected.map((f) => ({ ...f, target: s.repoPath(f) }));
    parts.push(
      md.heading(s.failed ? 'Blocking findings' : 'Findings at the blocking severities (fail-on-findings is false)', 3),
      findingsTable(located, false),
    );
  }
  if (s.sbom) {
    const where = s.sbom.uploaded
      ? `uploaded as artifact ${md.code(s.sbom.artifact)}`
      : `not uploaded (see the log); file ${md.code(s.sbom.file)}`;
    parts.push(`SBOM (${s.sbom.info.format}, ${s.sbom.info.components} components): ${where}.\n`);
  }
  const ignored = ignoreSection(s.ignore);
  if (ignored) parts.push(ignored);
  return `${parts.filter(Boolean).join('\n')}\n`;
}
