/**
 * The path patterns of .trivyignore.yaml, matched as Trivy 0.74 matches them (bmatcuk/doublestar v4 Match):
 * `*` any run of characters but `/`; `?` one character but `/`; `[abc]`, `[a-z]`, `[!x]`/`[^x]` classes; `{a,b}`
 * alternatives (nestable); `\c` a literal c; `**` only as a whole path segment: `**\/` zero or more directories,
 * a trailing `/**` everything below (and the directory itself). A `**` inside a segment is a plain `*`.
 */
export function trivyGlobMatch(pattern: string, path: string): boolean {
  return match(pattern, path, 0, 0, true);
}

/** Whether doublestar accepts the pattern (Trivy refuses an ignore file holding one it does not). */
export function validTrivyGlob(pattern: string): boolean {
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (++i >= pattern.length) return false;
    } else if (c === '[') {
      if (++i >= pattern.length) return false;
      if (pattern[i] === '^' || pattern[i] === '!') i++;
      if (i >= pattern.length || pattern[i] === ']') return false;
      for (; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      if (i >= pattern.length) return false;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth < 0) return false;
  }
  return depth === 0;
}

function match(p: string, name: string, pi: number, ni: number, segmentStart: boolean): boolean {
  if (ni >= name.length) return zeroLength(p.slice(pi));
  if (pi >= p.length) return false;
  const c = p[pi] as string;
  if (c === '*') {
    if (p[pi + 1] === '*' && segmentStart) {
      if (pi + 2 >= p.length) return true; // a trailing `**` takes the rest
      if (p[pi + 2] === '/') {
        // `**/`: here, or after any later `/` of the name
        for (let at = ni; at <= name.length; at++) {
          if ((at === ni || name[at - 1] === '/') && match(p, name, pi + 3, at, true)) return true;
        }
        return false;
      }
    }
    const next = p[pi + 1] === '*' ? pi + 2 : pi + 1;
    for (let at = ni; at <= name.length; at++) {
      if (match(p, name, next, at, false)) return true;
      if (name[at] === '/') break;
    }
    return false;
  }
  if (c === '?') return name[ni] !== '/' && match(p, name, pi + 1, ni + 1, false);
  if (c === '[') {
    const end = classEnd(p, pi);
    if (end < 0) return false;
    return classMatches(p.slice(pi + 1, end), name[ni] as string) && match(p, name, end + 1, ni + 1, false);
  }
  if (c === '{') return alternatives(p, pi).some((expanded) => match(expanded, name, pi, ni, true));
  const literal = c === '\\' ? p[pi + 1] : c;
  if (literal === undefined || literal !== name[ni]) return false;
  return match(p, name, pi + (c === '\\' ? 2 : 1), ni + 1, literal === '/');
}

/** The rest of a pattern once the name is used up: doublestar's short list of patterns that match nothing. */
function zeroLength(rest: string): boolean {
  if (['', '*', '**', '/**', '**/', '/**/'].includes(rest)) return true;
  if (rest.startsWith('{')) return alternatives(rest, 0).some(zeroLength);
  return false;
}

/** The pattern with the `{…}` at `at` replaced by each of its alternatives in turn. */
function alternatives(p: string, at: number): string[] {
  let depth = 0;
  const commas: number[] = [];
  let close = -1;
  for (let i = at; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      close = i;
      break;
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  if (close < 0) return [];
  const bounds = [at, ...commas, close];
  const result: string[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    result.push(p.slice(0, at) + p.slice((bounds[i] as number) + 1, bounds[i + 1]) + p.slice(close + 1));
  }
  return result;
}

function classEnd(p: string, at: number): number {
  let i = at + 1;
  if (p[i] === '^' || p[i] === '!') i++;
  if (p[i] === ']') return -1;
  for (; i < p.length; i++) {
    if (p[i] === '\\') i++;
    else if (p[i] === ']') return i;
  }
  return -1;
}

function classMatches(body: string, ch: string): boolean {
  const negate = body[0] === '!' || body[0] === '^';
  let i = negate ? 1 : 0;
  let matched = false;
  while (i < body.length) {
    let lo = body[i] as string;
    if (lo === '\\') lo = body[++i] as string;
    i++;
    if (body[i] === '-' && i + 1 < body.length) {
      let hi = body[i + 1] as string;
      i += 2;
      if (hi === '\\') hi = body[i++] as string;
      if (lo <= ch && ch <= hi) matched = true;
    } else if (lo === ch) matched = true;
  }
  return matched !== negate;
}
