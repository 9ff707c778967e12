import type { UserError } from '@golden-image/kit';
import type { Finding } from './finding.js';
import { parseReportJson, unreadableReport } from './report-json.js';
import { emptyCounts, type Severity, type SeverityCounts, severityFromScore } from './severity.js';

export interface OsvGateOptions {
  severities: ReadonlySet<Severity>;
  /** Block findings whose group has no CVSS score (`max_severity` "" or absent). Default true. */
  blockUnscored: boolean;
  /** Block malicious-package advisories (MAL-...) whatever their score. Default true. */
  blockMalicious: boolean;
  /**
   * Block findings that OSV-Scanner's call analysis found not called (every ID of the group `called: false` in
   * `experimental_analysis`). Default true. OSV-Scanner itself exits 0 when every finding is uncalled.
   */
  blockUncalled: boolean;
}

export interface OsvGate {
  counts: SeverityCounts;
  selected: Finding[];
  malicious: number;
  /** Groups call analysis found not called (counted whether they block or not). */
  uncalled: number;
  /** Sources (lockfiles, git repositories) scanned. */
  sources: number;
}

interface RawGroup {
  ids?: unknown;
  aliases?: unknown;
  max_severity?: unknown;
  experimental_analysis?: unknown;
}

interface RawVuln {
  id?: unknown;
  summary?: unknown;
  affected?: { package?: { name?: unknown }; ranges?: { events?: unknown[] }[] }[];
}

/**
 * Gates osv-scanner JSON (v1 and v2). OSV has no severity threshold of its own: each group's `max_severity` (a CVSS
 * score string) is the severity (>= 9.0 CRITICAL, >= 7.0 HIGH, >= 4.0 MEDIUM, else LOW); "" or absent is UNSCORED,
 * which blocks unless blockUnscored is false; every MAL- advisory blocks unless blockMalicious is false; a group call
 * analysis found not called blocks unless blockUncalled is false.
 */
export function gateOsvReport(report: unknown, source: string, options: OsvGateOptions): OsvGate {
  const gate: OsvGate = { counts: emptyCounts(), selected: [], malicious: 0, uncalled: 0, sources: 0 };
  if (!report || typeof report !== 'object' || Array.isArray(report))
    throw unreadable(source, 'it is not a JSON object');
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
      const installed =
        typeof pkg.version === 'string' && pkg.version !== ''
          ? pkg.version
          : typeof pkg.commit === 'string'
            ? pkg.commit
            : '';
      for (const [g, group] of (groups as RawGroup[]).entries()) {
        const ids = Array.isArray(group?.ids) ? (group.ids.filter((x) => typeof x === 'string') as string[]) : [];
        if (ids.length === 0) throw unreadable(source, `results[${r}].packages[${p}].groups[${g}] has no ids`);
        const aliases = Array.isArray(group.aliases)
          ? (group.aliases.filter((x) => typeof x === 'string') as string[])
          : [];
        const score = parseScore(group.max_severity);
        const severity = score === undefined ? 'UNSCORED' : severityFromScore(score);
        const malicious = [...ids, ...aliases].some((id) => id.startsWith('MAL-'));
        const uncalled = notCalled(group.experimental_analysis);
        gate.counts[severity]++;
        if (malicious) gate.malicious++;
        if (uncalled) gate.uncalled++;
        const blocks =
          ((severity === 'UNSCORED' ? options.blockUnscored : options.severities.has(severity)) &&
            (options.blockUncalled || !uncalled)) ||
          (malicious && options.blockMalicious);
        if (!blocks) continue;
        const related = vulns.filter((v) => typeof v?.id === 'string' && ids.includes(v.id));
        const finding: Finding = {
          scanner: 'osv-scanner',
          id: ids.find((id) => id.startsWith('MAL-')) ?? (ids[0] as string),
          aliases: [...new Set([...ids, ...aliases])],
          severity,
          pkg: name,
          installed,
          fixed: fixedVersions(related, name, installed),
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

/** OSV-Scanner's own rule (GroupInfo.IsCalled): no analysis means called; otherwise called if any ID is. */
function notCalled(analysis: unknown): boolean {
  if (!analysis || typeof analysis !== 'object') return false;
  const entries = Object.values(analysis as Record<string, { called?: unknown }>);
  return entries.length > 0 && entries.every((entry) => entry?.called !== true);
}

function parseScore(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const score = Number(value);
  return Number.isFinite(score) && score >= 0 && score <= 10 ? score : undefined;
}

/**
 * The fixed versions of the ranges (for this package name) that contain the installed version; all of them when
 * the version cannot be placed (a git commit, an unusual scheme). Ranges are compared with a loose dotted order.
 */
function fixedVersions(vulns: RawVuln[], name: string, installed: string): string[] {
  const all = new Set<string>();
  const applicable = new Set<string>();
  for (const vuln of vulns) {
    for (const affected of vuln.affected ?? []) {
      if (affected?.package?.name !== undefined && affected.package.name !== name) continue;
      for (const range of affected?.ranges ?? []) {
        let introduced: string | undefined;
        for (const event of range?.events ?? []) {
          const e = event as { introduced?: unknown; fixed?: unknown };
          if (typeof e.introduced === 'string') introduced = e.introduced;
          if (typeof e.fixed !== 'string') continue;
          all.add(e.fixed);
          if (
            introduced !== undefined &&
            looseCompare(introduced, installed) <= 0 &&
            looseCompare(installed, e.fixed) < 0
          )
            applicable.add(e.fixed);
        }
      }
    }
  }
  return [...(applicable.size > 0 ? applicable : all)];
}

/** Dotted versions, numeric parts compared as numbers; '0' (OSV's "from the start") precedes everything. */
export function looseCompare(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '0') return -1;
  if (b === '0') return 1;
  const pa = a.replace(/^v/, '').split(/[.\-+]/);
  const pb = b.replace(/^v/, '').split(/[.\-+]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function parseOsvJson(text: string, source: string): unknown {
  return parseReportJson('OSV-Scanner', text, source);
}

function unreadable(source: string, why: string): UserError {
  return unreadableReport('OSV-Scanner', source, why);
}
