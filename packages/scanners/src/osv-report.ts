import { UserError } from '@golden-image/kit';
import type { Finding } from './finding.js';
import { emptyCounts, type Severity, type SeverityCounts, severityFromScore } from './severity.js';

export interface OsvGateOptions {
  severities: ReadonlySet<Severity>;
  /** Block findings whose group has no CVSS score (`max_severity` "" or absent). Default true. */
  blockUnscored: boolean;
  /** Block malicious-package advisories (MAL-...) whatever their score. Default true. */
  blockMalicious: boolean;
}

export interface OsvGate {
  counts: SeverityCounts;
  selected: Finding[];
  malicious: number;
  /** Sources (lockfiles, git repositories) scanned. */
  sources: number;
}

interface RawGroup {
  ids?: unknown;
  aliases?: unknown;
  max_severity?: unknown;
}

interface RawVuln {
  id?: unknown;
  summary?: unknown;
  affected?: { package?: { name?: unknown }; ranges?: { events?: { fixed?: unknown }[] }[] }[];
}

/**
 * Gates osv-scanner JSON (v1 and v2). OSV has no severity threshold of its own: each group's `max_severity` (a CVSS
 * score string) is the severity (>= 9.0 CRITICAL, >= 7.0 HIGH, >= 4.0 MEDIUM, else LOW); "" or absent is UNSCORED,
 * which blocks unless blockUnscored is false; every MAL- advisory blocks unless blockMalicious is false.
 */
export function gateOsvReport(report: unknown, source: string, options: OsvGateOptions): OsvGate {
  const gate: OsvGate = { counts: emptyCounts(), selected: [], malicious: 0, sources: 0 };
  if (!report || typeof report !== 'object' || Array.isArray(report)) throw unreadable(source, 'it is not a JSON object');
  const results = (report as { results?: unknown }).results;
  if (!Array.isArray(results)) throw unreadable(source, 'it has no "results" list');
  for (const [r, result] of results.entries()) {
    const src = (result as { source?: { path?: unknown; type?: unknown } })?.source;
    const packages = (result as { packages?: unknown })?.packages;
    if (!src || typeof src.path !== 'string') throw unreadable(source, `results[${r}] has no source.path`);
    if (!Array.isArray(packages)) throw unreadable(source, `results[${r}] has no packages list`);
    gate.sources++;
    for (const [p, entry] of packages.entries()) {
      const pkg = (entry as { package?: { name?: unknown; version?: unknown; commit?: unknown } })?.package;
      const groups = (entry as { groups?: unknown }).groups;
      const vulns = ((entry as { vulnerabilities?: unknown }).vulnerabilities ?? []) as RawVuln[];
      if (!pkg || typeof pkg !== 'object') throw unreadable(source, `results[${r}].packages[${p}] has no package`);
      if (!Array.isArray(groups)) throw unreadable(source, `results[${r}].packages[${p}] has no groups list`);
      const name = typeof pkg.name === 'string' ? pkg.name : '';
      const installed = typeof pkg.version === 'string' ? pkg.version : typeof pkg.commit === 'string' ? pkg.commit : '';
      for (const [g, group] of (groups as RawGroup[]).entries()) {
        const ids = Array.isArray(group?.ids) ? (group.ids.filter((x) => typeof x === 'string') as string[]) : [];
        if (ids.length === 0) throw unreadable(source, `results[${r}].packages[${p}].groups[${g}] has no ids`);
        const aliases = Array.isArray(group.aliases) ? (group.aliases.filter((x) => typeof x === 'string') as string[]) : [];
        const score = parseScore(group.max_severity);
        const severity = score === undefined ? 'UNSCORED' : severityFromScore(score);
        const malicious = [...ids, ...aliases].some((id) => id.startsWith('MAL-'));
        gate.counts[severity]++;
        if (malicious) gate.malicious++;
        const blocks =
          (severity === 'UNSCORED' ? options.blockUnscored : options.severities.has(severity)) || (malicious && options.blockMalicious);
        if (!blocks) continue;
        const related = vulns.filter((v) => typeof v?.id === 'string' && ids.includes(v.id));
        const finding: Finding = {
          scanner: 'osv-scanner',
          id: ids.find((id) => id.startsWith('MAL-')) ?? (ids[0] as string),
          aliases: [...new Set([...ids, ...aliases])],
          severity,
          pkg: name,
          installed,
          fixed: fixedVersions(related, name),
          target: src.path,
        };
        if (score !== undefined) finding.score = score;
        if (malicious) finding.malicious = true;
        const summary = related.find((v) => typeof v.summary === 'string')?.summary;
        if (typeof summary === 'string') finding.title = summary;
        finding.url = `https://osv.dev/vulnerability/${finding.id}`;
        gate.selected.push(finding);
      }
    }
  }
  return gate;
}

function parseScore(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const score = Number(value);
  return Number.isFinite(score) && score >= 0 && score <= 10 ? score : undefined;
}

function fixedVersions(vulns: RawVuln[], name: string): string[] {
  const fixed = new Set<string>();
  for (const vuln of vulns) {
    for (const affected of vuln.affected ?? []) {
      if (affected?.package?.name !== undefined && affected.package.name !== name) continue;
      for (const range of affected?.ranges ?? []) {
        for (const event of range?.events ?? []) if (typeof event?.fixed === 'string') fixed.add(event.fixed);
      }
    }
  }
  return [...fixed];
}

export function parseOsvJson(text: string, source: string): unknown {
  if (text.trim() === '') throw unreadable(source, 'the file is empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw unreadable(source, `it is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

function unreadable(source: string, why: string): UserError {
  return new UserError(`The OSV-Scanner report ${source} cannot be read: ${why}. The scan did not complete, so the gate cannot pass.`);
}
