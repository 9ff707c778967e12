import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { inputProblem, UserError } from '@golden-image/kit';
import { isMap, isScalar, isSeq, parseDocument, type Scalar } from 'yaml';
import { trivyGlobMatch, validTrivyGlob } from './trivy-glob.js';
import { parseTrivyPurl, type TrivyPurl, trivyPurlMatch } from './trivy-purl.js';

/** The sections of a .trivyignore.yaml, one per Trivy scanner. */
export const IGNORE_SECTIONS = ['vulnerabilities', 'misconfigurations', 'secrets', 'licenses'] as const;
export type IgnoreSection = (typeof IGNORE_SECTIONS)[number];

/** One entry of a .trivyignore or .trivyignore.yaml file. */
export interface IgnoreEntry {
  id: string;
  /** YAML: the section it is in, applied to that scanner's findings only; plain files: absent, applied to all. */
  section?: IgnoreSection;
  file: string;
  line?: number;
  /** When the entry stops applying, as Trivy reads it (ISO 8601); `exp:YYYY-MM-DD` is that day's 00:00 UTC. */
  expires?: string;
  /** YAML only: doublestar globs matched against the result target or the package path. */
  paths?: string[];
  /** YAML only: package URLs; see trivyPurlMatch. */
  purls?: string[];
  /** Findings this entry suppressed. */
  matches: number;
}

export interface IgnoreSubject {
  /**
   * The finding's ID as Trivy matches ignore entries: a vulnerability's VulnerabilityID alone (never VendorIDs or
   * aliases), a secret's RuleID, a misconfiguration's ID (or its AVDID, in `alsoId`), a license's name.
   */
  id: string;
  alsoId?: string;
  /** Which scanner found it (default vulnerabilities): a YAML entry applies to its own section only. */
  section?: IgnoreSection;
  target: string;
  pkgPath?: string;
  purl?: string;
}

/**
 * Applies Trivy's ignore-file rules (pkg/result/ignore.go at 0.74) in the suite (Trivy itself is given an empty
 * ignore file), so that several files can apply and the summary can report entries that expired or matched nothing.
 */
export class IgnoreRules {
  readonly now: Date;
  private readonly parsedPurls = new Map<string, TrivyPurl>();

  /** `now` decides expiry; a YYYY-MM-DD string is that day's 00:00 UTC. */
  constructor(
    readonly entries: IgnoreEntry[],
    now: Date | string = new Date(),
  ) {
    this.now = typeof now === 'string' ? new Date(`${now}T00:00:00Z`) : now;
  }

  /** The scanners whose findings these rules are applied to: entries of other sections are never reported unmatched. */
  sections: ReadonlySet<IgnoreSection> = new Set(['vulnerabilities']);

  static empty(): IgnoreRules {
    return new IgnoreRules([]);
  }

  private applies(entry: IgnoreEntry): boolean {
    return entry.section === undefined || this.sections.has(entry.section);
  }

  get expired(): IgnoreEntry[] {
    return this.entries.filter((entry) => this.isExpired(entry) && this.applies(entry));
  }

  /** Live entries that suppressed nothing (in every report seen so far). */
  get unmatched(): IgnoreEntry[] {
    return this.entries.filter((entry) => entry.matches === 0 && !this.isExpired(entry) && this.applies(entry));
  }

  /** An entry expires at its instant: from then on (Trivy drops entries whose time is before now). */
  isExpired(entry: IgnoreEntry): boolean {
    return entry.expires !== undefined && Date.parse(entry.expires) < this.now.getTime();
  }

  /**
   * The live entry that suppresses the finding, counted; undefined when none does. Like Trivy: the target is tried
   * first, then the package path (empty when there is none), each against the entries in order; an entry with
   * PURLs matches a finding whose package has no PURL.
   */
  match(subject: IgnoreSubject): IgnoreEntry | undefined {
    for (const path of [subject.target, subject.pkgPath ?? '']) {
      const section = subject.section ?? 'vulnerabilities';
      for (const entry of this.entries) {
        if (entry.id !== subject.id && (subject.alsoId === undefined || entry.id !== subject.alsoId)) continue;
        if ((entry.section !== undefined && entry.section !== section) || this.isExpired(entry)) continue;
        if (entry.paths && entry.paths.length > 0 && !entry.paths.some((glob) => trivyGlobMatch(glob, path))) continue;
        if (!this.purlMatches(entry, subject.purl)) continue;
        entry.matches++;
        return entry;
      }
    }
    return undefined;
  }

  private purlMatches(entry: IgnoreEntry, purl: string | undefined): boolean {
    if (!entry.purls || entry.purls.length === 0 || purl === undefined) return true;
    let target: TrivyPurl;
    try {
      target = this.purl(purl);
    } catch {
      return false;
    }
    return entry.purls.some((want) => trivyPurlMatch(this.purl(want), target));
  }

  private purl(text: string): TrivyPurl {
    let parsed = this.parsedPurls.get(text);
    if (!parsed) {
      parsed = parseTrivyPurl(text);
      this.parsedPurls.set(text, parsed);
    }
    return parsed;
  }
}

/** Reads every ignore file; a file that cannot be read or parsed is a UserError naming `input`. */
export async function loadIgnoreFiles(
  files: readonly string[],
  input: string,
  now: Date = new Date(),
): Promise<IgnoreRules> {
  const entries: IgnoreEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new UserError(inputProblem(input, `the ignore file ${file} does not exist or cannot be read`));
    }
    // Trivy's own rule: .yml and .yaml are YAML, anything else is the plain format.
    const parsed = /\.ya?ml$/.test(file) ? parseYamlIgnore(text, file, input) : parsePlainIgnore(text, file, input);
    entries.push(...parsed);
  }
  return new IgnoreRules(entries, now);
}

/**
 * The plain format: one ID per line, `#` comments, and the first `exp:YYYY-MM-DD` field on the line. Trivy skips a
 * line whose date it cannot read (the finding then blocks); the suite refuses the file instead, naming the line.
 */
export function parsePlainIgnore(text: string, file: string, input = 'trivyignores'): IgnoreEntry[] {
  const entries: IgnoreEntry[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/) as [string, ...string[]];
    const entry: IgnoreEntry = { id: fields[0], file, line: i + 1, matches: 0 };
    const exp = fields.length > 1 ? fields.find((field) => field.startsWith('exp:')) : undefined;
    if (exp !== undefined) {
      const day = exp.slice(4);
      if (!isCalendarDate(day))
        throw new UserError(
          inputProblem(
            input,
            `${basename(file)} line ${i + 1}: expiry ${JSON.stringify(day)} is not a date in YYYY-MM-DD form (Trivy would skip the whole line)`,
          ),
        );
      entry.expires = `${day}T00:00:00.000Z`;
    }
    entries.push(entry);
  }
  return entries;
}

export function parseYamlIgnore(text: string, file: string, input = 'trivyignores'): IgnoreEntry[] {
  const problem = (why: string) => new UserError(inputProblem(input, `${file}${why}`));
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) throw problem(` is not valid YAML: ${doc.errors[0]?.message}`);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return [];
  if (!isMap(doc.contents)) throw problem(' must be a YAML mapping with a "vulnerabilities" list');
  const contents = doc.contents;
  // Each section applies to its own scanner's findings, as in Trivy (scan-layout gates secrets, misconfigurations
  // and licenses when its scanners input asks for them).
  return IGNORE_SECTIONS.flatMap((section) => {
    const list = contents.get(section, true);
    if (list === undefined || (isScalar(list) && list.value === null)) return [];
    if (!isSeq(list)) throw problem(`: "${section}" must be a list`);
    return yamlEntries(list.items, section, file, input);
  });
}

function yamlEntries(items: unknown[], section: IgnoreSection, file: string, input: string): IgnoreEntry[] {
  return items.map((item, i) => {
    const where = `${basename(file)} ${section}[${i}]`;
    const fail = (why: string) => new UserError(inputProblem(input, `${where}${why}`));
    if (!isMap(item)) throw fail(' must be a mapping with an "id"');
    const id = item.get('id');
    if (typeof id !== 'string' || id === '') throw fail(' has no "id"');
    const entry: IgnoreEntry = { id, section, file, matches: 0 };
    const paths = stringList(item.get('paths'), `${where}.paths`, input);
    if (paths) {
      const bad = paths.find((glob) => !validTrivyGlob(glob));
      if (bad !== undefined) throw fail(`.paths: ${JSON.stringify(bad)} is not a valid path pattern`);
      entry.paths = paths;
    }
    const purls = stringList(item.get('purls'), `${where}.purls`, input);
    if (purls) {
      for (const purl of purls) {
        try {
          parseTrivyPurl(purl);
        } catch (error) {
          throw fail(`.purls: ${JSON.stringify(purl)} is not a package URL: ${(error as Error).message}`);
        }
      }
      entry.purls = purls;
    }
    const expires = expiredAt(item.get('expired_at', true) as Scalar | undefined);
    if (expires === false)
      throw fail(
        '.expired_at must be a date (2026-12-31, unquoted) or an RFC 3339 time (2026-12-31T12:00:00Z), as Trivy reads it',
      );
    if (expires) entry.expires = expires;
    return entry;
  });
}

function stringList(value: unknown, where: string, input: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = isSeq(value) ? value.items.map((item) => (isScalar(item) ? item.value : item)) : undefined;
  if (!items || items.some((v) => typeof v !== 'string'))
    throw new UserError(inputProblem(input, `${where} must be a list of strings`));
  return items as string[];
}

/**
 * expired_at as Trivy's YAML decoder (yaml.v3 into time.Time) reads it: an unquoted YAML timestamp (2026-1-2 is
 * 00:00 UTC; 2026-01-02T03:04:05Z; 2026-01-02 03:04:05 in UTC), or any scalar in RFC 3339. Returns the instant
 * (ISO 8601), undefined when absent or null, false when Trivy would refuse the file.
 */
function expiredAt(node: Scalar | undefined): string | undefined | false {
  if (node === undefined || node.value === null || node.value === undefined) return undefined;
  if (!isScalar(node)) return false;
  const text = node.source ?? String(node.value);
  const date = '(\\d{4})-(\\d{1,2})-(\\d{1,2})';
  const time = '(\\d{1,2}):(\\d{1,2}):(\\d{1,2})(\\.\\d+)?';
  const zone = '(Z|[+-]\\d{2}:\\d{2})';
  const forms = [
    ...(node.type === 'PLAIN' ? [`^${date}$`, `^${date}[Tt]${time}${zone}$`, `^${date} ${time}()$`] : []),
    `^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(\\.\\d+)?${zone}$`,
  ];
  for (const form of forms) {
    const m = new RegExp(form).exec(text);
    if (m) return instant(m);
  }
  return false;
}

function instant(m: RegExpExecArray): string | false {
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((part) => Number(part ?? 0));
  if (!validDay(y, mo, d) || h > 23 || mi > 59 || s > 59) return false;
  const zone = m[8] ?? '';
  const offset = /^[+-]/.test(zone)
    ? (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
    : 0;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) + Math.floor(Number(`0${m[7] ?? ''}`) * 1000) - offset * 60_000;
  return new Date(ms).toISOString();
}

function isCalendarDate(day: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  return m !== null && validDay(+(m[1] as string), +(m[2] as string), +(m[3] as string));
}

function validDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
