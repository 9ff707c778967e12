import type { UserError } from '@golden-image/kit';
import { type Finding, splitFixedVersions } from './finding.js';
import { parseReportJson, unreadableReport } from './report-json.js';
import { emptyCounts, isSeverity, type Severity, type SeverityCounts } from './severity.js';
import type { IgnoreRules } from './trivy-ignore.js';

export interface TrivyGateOptions {
  /** Severities that block. */
  severities: ReadonlySet<Severity>;
  /**
   * Unfixed findings are suppressed by the suite, never passed to Trivy as --ignore-unfixed; like Trivy's
   * --ignore-unfixed (every status but "fixed" ignored), a finding is unfixed unless its Status is "fixed".
   */
  ignoreUnfixed: boolean;
  ignore?: IgnoreRules;
  platform?: string;
}

export interface TrivyGate {
  /** Findings left after ignore files and ignore-unfixed, by severity (every severity, not only the blocking ones). */
  counts: SeverityCounts;
  /** Findings left whose severity is in the blocking set. */
  selected: Finding[];
  /**
   * What the suite suppressed. Trivy itself suppresses nothing the suite could count: it is given an empty ignore
   * file and no VEX, and reports suppressed findings only with --show-suppressed.
   */
  suppressed: { ignored: number; unfixed: number };
  /** Result targets that had no Vulnerabilities key or an empty list. */
  cleanTargets: number;
}

interface RawVuln {
  VulnerabilityID?: unknown;
  VendorIDs?: unknown;
  PkgName?: unknown;
  PkgPath?: unknown;
  PkgIdentifier?: { PURL?: unknown };
  InstalledVersion?: unknown;
  FixedVersion?: unknown;
  Status?: unknown;
  Severity?: unknown;
  Title?: unknown;
  PrimaryURL?: unknown;
}

/**
 * Gates one Trivy JSON report. Both clean shapes pass (no `Results` key; results without `Vulnerabilities`).
 * Anything that is not a Trivy report (wrong type, no SchemaVersion, a vulnerability without ID) is an error:
 * an unreadable report must never count as "0 findings".
 */
export function gateTrivyReport(report: unknown, source: string, options: TrivyGateOptions): TrivyGate {
  const gate: TrivyGate = {
    counts: emptyCounts(),
    selected: [],
    suppressed: { ignored: 0, unfixed: 0 },
    cleanTargets: 0,
  };
  if (!report || typeof report !== 'object' || Array.isArray(report))
    throw unreadable(source, 'it is not a JSON object');
  const { SchemaVersion, Results } = report as { SchemaVersion?: unknown; Results?: unknown };
  if (typeof SchemaVersion !== 'number') throw unreadable(source, 'it has no SchemaVersion');
  if (SchemaVersion !== 2) throw unreadable(source, `SchemaVersion ${SchemaVersion} is not supported (expected 2)`);
  if (Results === undefined || Results === null) return gate;
  if (!Array.isArray(Results)) throw unreadable(source, '"Results" is not a list');
  for (const [r, result] of Results.entries()) {
    if (!result || typeof result !== 'object') throw unreadable(source, `Results[${r}] is not an object`);
    const { Target, Vulnerabilities } = result as { Target?: unknown; Vulnerabilities?: unknown };
    if (typeof Target !== 'string') throw unreadable(source, `Results[${r}] has no Target`);
    gateOthers(gate, result as RawResult, Target, `Results[${r}]`, source, options);
    if (Vulnerabilities === undefined || Vulnerabilities === null) {
      gate.cleanTargets++;
      continue;
    }
    if (!Array.isArray(Vulnerabilities)) throw unreadable(source, `Results[${r}].Vulnerabilities is not a list`);
    if (Vulnerabilities.length === 0) gate.cleanTargets++;
    for (const [v, raw] of (Vulnerabilities as RawVuln[]).entries()) {
      const id = raw?.VulnerabilityID;
      if (typeof id !== 'string' || id === '')
        throw unreadable(source, `Results[${r}].Vulnerabilities[${v}] has no VulnerabilityID`);
      const aliases = Array.isArray(raw.VendorIDs)
        ? (raw.VendorIDs.filter((x) => typeof x === 'string') as string[])
        : [];
      const pkgPath = typeof raw.PkgPath === 'string' ? raw.PkgPath : undefined;
      const purl = typeof raw.PkgIdentifier?.PURL === 'string' ? raw.PkgIdentifier.PURL : undefined;
      if (options.ignore?.match({ id, target: Target, pkgPath, purl })) {
        gate.suppressed.ignored++;
        continue;
      }
      const fixed = splitFixedVersions(raw.FixedVersion);
      const unfixed = typeof raw.Status === 'string' ? raw.Status !== 'fixed' : fixed.length === 0;
      if (options.ignoreUnfixed && unfixed) {
        gate.suppressed.unfixed++;
        continue;
      }
      const declared = typeof raw.Severity === 'string' ? raw.Severity.toUpperCase() : 'UNKNOWN';
      const severity: Severity = isSeverity(declared) ? declared : 'UNKNOWN';
      gate.counts[severity]++;
      if (!options.severities.has(severity)) continue;
      const finding: Finding = {
        scanner: 'trivy',
        id,
        aliases,
        severity,
        pkg: typeof raw.PkgName === 'string' ? raw.PkgName : '',
        installed: typeof raw.InstalledVersion === 'string' ? raw.InstalledVersion : '',
        fixed,
        target: Target,
      };
      if (options.platform) finding.platform = options.platform;
      if (pkgPath) finding.pkgPath = pkgPath;
      if (typeof raw.Title === 'string') finding.title = raw.Title;
      if (typeof raw.PrimaryURL === 'string') finding.url = raw.PrimaryURL;
      if (typeof raw.Status === 'string') finding.status = raw.Status;
      gate.selected.push(finding);
    }
  }
  return gate;
}

interface RawResult {
  Secrets?: unknown;
  Misconfigurations?: unknown;
  Licenses?: unknown;
}

interface RawOther {
  ID?: unknown;
  AVDID?: unknown;
  RuleID?: unknown;
  Name?: unknown;
  Title?: unknown;
  Severity?: unknown;
  Status?: unknown;
  PkgName?: unknown;
  FilePath?: unknown;
  PrimaryURL?: unknown;
  Link?: unknown;
  StartLine?: unknown;
  Category?: unknown;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * Secrets, misconfigurations and licenses (scan-layout's scanners input), gated like vulnerabilities: by severity,
 * after the ignore files (a plain file's IDs apply to them too; a YAML file's secrets, misconfigurations and licenses
 * sections each to their own), as Trivy 0.74 filters them: a secret by its RuleID and Target, a misconfiguration by
 * its ID or AVDID and Target (failures only: Trivy reports passes only with --include-non-failures), a license by
 * its name and FilePath.
 */
function gateOthers(
  gate: TrivyGate,
  result: RawResult,
  target: string,
  where: string,
  source: string,
  options: TrivyGateOptions,
): void {
  const kinds = [
    ['Secrets', 'secret', 'secrets'],
    ['Misconfigurations', 'misconfig', 'misconfigurations'],
    ['Licenses', 'license', 'licenses'],
  ] as const;
  for (const [key, kind, section] of kinds) {
    const list = result[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw unreadable(source, `${where}.${key} is not a list`);
    for (const [i, raw] of (list as RawOther[]).entries()) {
      if (!raw || typeof raw !== 'object') throw unreadable(source, `${where}.${key}[${i}] is not an object`);
      if (kind === 'misconfig' && raw.Status !== undefined && raw.Status !== 'FAIL') continue;
      const id = kind === 'secret' ? str(raw.RuleID) : kind === 'license' ? str(raw.Name) : str(raw.ID);
      if (id === undefined)
        throw unreadable(
          source,
          `${where}.${key}[${i}] has no ${kind === 'secret' ? 'RuleID' : kind === 'license' ? 'Name' : 'ID'}`,
        );
      const path = kind === 'license' ? (str(raw.FilePath) ?? target) : target;
      if (options.ignore?.match({ id, alsoId: str(raw.AVDID), section, target: path })) {
        gate.suppressed.ignored++;
        continue;
      }
      const declared = typeof raw.Severity === 'string' ? raw.Severity.toUpperCase() : 'UNKNOWN';
      const severity: Severity = isSeverity(declared) ? declared : 'UNKNOWN';
      gate.counts[severity]++;
      if (!options.severities.has(severity)) continue;
      const line = typeof raw.StartLine === 'number' && raw.StartLine > 0 ? `:${raw.StartLine}` : '';
      const finding: Finding = {
        scanner: 'trivy',
        kind,
        id,
        aliases: str(raw.AVDID) ? [str(raw.AVDID) as string] : [],
        severity,
        pkg: str(raw.PkgName) ?? '',
        installed: '',
        fixed: [],
        target: `${path}${kind === 'secret' ? line : ''}`,
      };
      if (options.platform) finding.platform = options.platform;
      const title = str(raw.Title) ?? (kind === 'license' ? `${str(raw.Category) ?? 'unknown'} license` : undefined);
      if (title) finding.title = title;
      const url = str(raw.PrimaryURL) ?? str(raw.Link);
      if (url) finding.url = url;
      gate.selected.push(finding);
    }
  }
}

export function parseTrivyJson(text: string, source: string): unknown {
  return parseReportJson('Trivy', text, source);
}

function unreadable(source: string, why: string): UserError {
  return unreadableReport('Trivy', source, why);
}
