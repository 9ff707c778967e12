import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { inputProblem, UserError } from '@golden-image/kit';
import { parse as parseYaml } from 'yaml';

/** One entry of a .trivyignore or .trivyignore.yaml file. */
export interface IgnoreEntry {
  id: string;
  file: string;
  line?: number;
  /** `exp:YYYY-MM-DD` (plain) or `expired_at` (YAML), as YYYY-MM-DD. */
  expires?: string;
  /** YAML only: globs matched against the result target or the package path. */
  paths?: string[];
  /** YAML only: package URLs; one without a version matches every version. */
  purls?: string[];
  /** Findings this entry suppressed. */
  matches: number;
}

export interface IgnoreSubject {
  id: string;
  aliases: readonly string[];
  target: string;
  pkgPath?: string;
  purl?: string;
}

/**
 * Applies Trivy's ignore-file rules in the suite (Trivy itself is given an empty ignore file), so the summary can
 * count what was suppressed and report entries that expired or match nothing.
 */
export class IgnoreRules {
  constructor(
    readonly entries: IgnoreEntry[],
    readonly today: string,
  ) {}

  static empty(): IgnoreRules {
    return new IgnoreRules([], today());
  }

  get expired(): IgnoreEntry[] {
    return this.entries.filter((entry) => isExpired(entry, this.today));
  }

  /** Live entries that suppressed nothing (in every report seen so far). */
  get unmatched(): IgnoreEntry[] {
    return this.entries.filter((entry) => entry.matches === 0 && !isExpired(entry, this.today));
  }

  /** The first live entry matching the finding, counted; undefined when none does. */
  match(subject: IgnoreSubject): IgnoreEntry | undefined {
    for (const entry of this.entries) {
      if (entry.id !== subject.id && !subject.aliases.includes(entry.id)) continue;
      if (isExpired(entry, this.today)) continue;
      if (
        entry.paths &&
        !entry.paths.some(
          (glob) =>
            globMatch(glob, subject.target) || (subject.pkgPath !== undefined && globMatch(glob, subject.pkgPath)),
        )
      )
        continue;
      if (entry.purls && !entry.purls.some((purl) => purlMatch(purl, subject.purl))) continue;
      entry.matches++;
      return entry;
    }
    return undefined;
  }
}

export function today(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

function isExpired(entry: IgnoreEntry, day: string): boolean {
  return entry.expires !== undefined && entry.expires < day;
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
    const parsed = /\.ya?ml$/i.test(file) ? parseYamlIgnore(text, file, input) : parsePlainIgnore(text, file, input);
    entries.push(...parsed);
  }
  return new IgnoreRules(entries, today(now));
}

export function parsePlainIgnore(text: string, file: string, input = 'trivyignores'): IgnoreEntry[] {
  const entries: IgnoreEntry[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [id, ...fields] = line.split(/\s+/) as [string, ...string[]];
    const entry: IgnoreEntry = { id, file, line: i + 1, matches: 0 };
    for (const field of fields) {
      if (!field.startsWith('exp:')) continue;
      entry.expires = checkDate(field.slice(4), `${basename(file)} line ${i + 1}`, input);
    }
    entries.push(entry);
  }
  return entries;
}

export function parseYamlIgnore(text: string, file: string, input = 'trivyignores'): IgnoreEntry[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new UserError(
      inputProblem(input, `${file} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UserError(inputProblem(input, `${file} must be a YAML mapping with a "vulnerabilities" list`));
  // misconfigurations, secrets and licenses are other scanners' sections: the gates scan vulnerabilities only.
  const list = (doc as { vulnerabilities?: unknown }).vulnerabilities;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new UserError(inputProblem(input, `${file}: "vulnerabilities" must be a list`));
  return list.map((item, i) => {
    const where = `${basename(file)} vulnerabilities[${i}]`;
    const value = item as { id?: unknown; paths?: unknown; purls?: unknown; expired_at?: unknown };
    if (!value || typeof value.id !== 'string' || value.id === '')
      throw new UserError(inputProblem(input, `${where} has no "id"`));
    const entry: IgnoreEntry = { id: value.id, file, matches: 0 };
    if (value.paths !== undefined) entry.paths = stringList(value.paths, `${where}.paths`, input);
    if (value.purls !== undefined) entry.purls = stringList(value.purls, `${where}.purls`, input);
    if (value.expired_at !== undefined && value.expired_at !== null) {
      const raw =
        value.expired_at instanceof Date ? value.expired_at.toISOString().slice(0, 10) : String(value.expired_at);
      entry.expires = checkDate(raw, `${where}.expired_at`, input);
    }
    return entry;
  });
}

function stringList(value: unknown, where: string, input: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new UserError(inputProblem(input, `${where} must be a list of strings`));
  return value as string[];
}

function checkDate(value: string, where: string, input: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new UserError(
      inputProblem(input, `${where}: expiry ${JSON.stringify(value)} is not a date in YYYY-MM-DD form`),
    );
  }
  return value;
}

const globCache = new Map<string, RegExp>();

/** Doublestar-style glob: `**` crosses directories, `*` and `?` do not. */
export function globMatch(glob: string, path: string): boolean {
  let pattern = globCache.get(glob);
  if (!pattern) {
    let source = '';
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i] as string;
      if (c === '*' && glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        source += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else if (c === '*') source += '[^/]*';
      else if (c === '?') source += '[^/]';
      else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    pattern = new RegExp(`^${source}$`);
    globCache.set(glob, pattern);
  }
  return pattern.test(path);
}

/** `pkg:type/ns/name@version?q#s`: an entry without a version matches any version; qualifiers are ignored. */
export function purlMatch(entry: string, purl: string | undefined): boolean {
  if (!purl) return false;
  const strip = (value: string) => value.replace(/[?#].*$/, '');
  const want = strip(entry);
  const have = strip(purl);
  if (want.includes('@')) return want === have;
  return have === want || have.startsWith(`${want}@`);
}
