import { UserError } from '@golden-image/kit';

/** One tarball as `npm pack --json` describes it. */
export interface PackEntry {
  name: string;
  version: string;
  filename: string;
  integrity: string;
  shasum: string;
  size?: number;
  unpackedSize?: number;
  files: { path: string; size?: number; mode?: number }[];
}

function isEntry(value: unknown): value is PackEntry {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.name === 'string' &&
    typeof entry.version === 'string' &&
    typeof entry.filename === 'string' &&
    typeof entry.integrity === 'string' &&
    typeof entry.shasum === 'string' &&
    Array.isArray(entry.files) &&
    entry.files.every(
      (file) => file && typeof file === 'object' && typeof (file as { path?: unknown }).path === 'string',
    )
  );
}

/** npm 11 prints an array of entries; npm 12 an object keyed by package name (as `npm publish --json` does). */
function entriesOf(value: unknown): PackEntry[] | undefined {
  if (Array.isArray(value)) return value.every(isEntry) ? value : undefined;
  if (value && typeof value === 'object') {
    const values = Object.values(value);
    if (values.length > 0 && values.every(isEntry)) return values;
  }
  return undefined;
}

/**
 * The entries of `npm pack --json` output. Lifecycle scripts (prepack, prepare, postpack) print to the same
 * stdout before the JSON, so the JSON is the remainder from the first line that starts with `[` or `{` and parses
 * as a whole to the end; a script that prints JSON of its own cannot take its place, as the rest would not parse.
 */
export function parsePackJson(stdout: string): PackEntry[] {
  const starts = [0];
  for (let i = stdout.indexOf('\n'); i >= 0; i = stdout.indexOf('\n', i + 1)) starts.push(i + 1);
  for (const start of starts) {
    const first = stdout.slice(start).trimStart()[0];
    if (first !== '[' && first !== '{') continue;
    let value: unknown;
    try {
      value = JSON.parse(stdout.slice(start));
    } catch {
      continue;
    }
    const entries = entriesOf(value);
    if (entries) return entries;
  }
  const tail = stdout.trim().split('\n').slice(-5).join('\n');
  throw new UserError(
    `npm pack --json printed no JSON list of tarballs that this action understands (npm 11 prints an array, npm 12 an object keyed by package name). Its output ended with:\n${tail || '(nothing)'}`,
  );
}
