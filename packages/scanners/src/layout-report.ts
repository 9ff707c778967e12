import { md } from '@golden-image/kit';
import type { Finding } from './finding.js';
import { emptyCounts, type SeverityCounts } from './severity.js';
import { countsTable, findingsTable, ignoreSection } from './summary.js';
import type { IgnoreRules } from './trivy-ignore.js';

/** scan-layout's job summary: counts per platform, blocking findings, suppressions, stale ignore entries. */
export function layoutSummary(
  digest: string,
  perPlatform: { platform: string; counts: SeverityCounts }[],
  selected: Finding[],
  suppressed: { ignored: number; unfixed: number },
  ignore: IgnoreRules,
  ignoreUnfixed: boolean,
  severities: string[],
  failed: boolean,
): string {
  const total = emptyCounts();
  for (const { counts } of perPlatform)
    for (const key of Object.keys(total) as (keyof SeverityCounts)[]) total[key] += counts[key];
  const parts = [
    md.heading(`scan-layout: ${failed ? 'failed' : 'passed'}`),
    `Image ${md.code(digest)}, ${perPlatform.length} platform(s) scanned with Trivy, each on its own. Blocking severities: ${severities.join(', ')}.\n`,
    countsTable(
      [...perPlatform.map(({ platform, counts }) => [platform, counts] as [string, SeverityCounts]), ['total', total]],
      'Platform',
    ),
    '',
    `Suppressed: ${suppressed.ignored} by ignore files, ${suppressed.unfixed} unfixed${ignoreUnfixed ? ' (ignore-unfixed)' : ''}.\n`,
  ];
  if (selected.length > 0)
    parts.push(
      md.heading(failed ? 'Blocking findings' : 'Findings at the blocking severities (fail-on-findings is false)', 3),
      findingsTable(selected, true),
    );
  const ignored = ignoreSection(ignore);
  if (ignored) parts.push(ignored);
  return `${parts.join('\n')}\n`;
}
