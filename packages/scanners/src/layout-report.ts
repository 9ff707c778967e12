import { md } from '@golden-image/kit';
import type { Finding } from './finding.js';
import { emptyCounts, type SeverityCounts } from './severity.js';
import { countsTable, findingsTable, ignoreSection } from './summary.js';
import type { IgnoreRules } from './trivy-ignore.js';

/**
 * What an image scan's report and summary call the image: Trivy names the scratch directory it was handed
 * (`/…/golden-image-scan-layout/platform-1 (alpine 3.20.3)`); this names the image and the platform instead.
 */
export function imageLabel(platform: string, image: string | undefined, digest: string): string {
  return `${image ?? `image ${digest.slice(0, 'sha256:'.length + 12)}…`} ${platform}`;
}

/** `dir` and `dir (os)` become `label` and `label (os)`; any other target (a file in the image) stays. */
export function renamedTarget(target: string, dir: string, label: string): string {
  if (target === dir) return label;
  if (target.startsWith(`${dir} `)) return `${label}${target.slice(dir.length)}`;
  return target;
}

/** A copy of a Trivy report whose ArtifactName and result targets name the image instead of the scratch directory. */
export function withImageTargets(report: unknown, dir: string, label: string): unknown {
  if (!report || typeof report !== 'object' || Array.isArray(report)) return report;
  const copy = { ...(report as Record<string, unknown>) };
  if (copy.ArtifactName === dir) copy.ArtifactName = label;
  if (Array.isArray(copy.Results))
    copy.Results = copy.Results.map((result: unknown) =>
      result && typeof result === 'object' && typeof (result as { Target?: unknown }).Target === 'string'
        ? { ...result, Target: renamedTarget((result as { Target: string }).Target, dir, label) }
        : result,
    );
  return copy;
}

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
  scanners: readonly string[] = ['vuln'],
): string {
  const total = emptyCounts();
  for (const { counts } of perPlatform)
    for (const key of Object.keys(total) as (keyof SeverityCounts)[]) total[key] += counts[key];
  const parts = [
    md.heading(`scan-layout: ${failed ? 'failed' : 'passed'}`),
    `Image ${md.code(digest)}, ${perPlatform.length} platform(s) scanned with Trivy, each on its own, for ${scannerWords(scanners)}. Blocking severities: ${severities.join(', ')}.\n`,
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

const SCANNER_WORDS: Record<string, string> = {
  vuln: 'vulnerabilities',
  secret: 'secrets',
  misconfig: 'misconfigurations',
  license: 'licenses',
};

function scannerWords(scanners: readonly string[]): string {
  const words = scanners.map((scanner) => SCANNER_WORDS[scanner] ?? scanner);
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : (words[0] ?? '');
}
